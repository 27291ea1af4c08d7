// The /v2 routes read their service through a one-second cache: a change made through the same
// replica is seen at once, one made elsewhere (here: straight in the database) once the second has
// passed; unknown SIDs are never kept.
import t from 'tap';
import { openDatabase } from '../../src/storage/database.js';
import { migrate } from '../../src/storage/migrate.js';
import { SqlTenantStore } from '../../src/storage/tenant-store.js';
import { CachedTenantStore, TENANT_CACHE_MS } from '../../src/verification/cached-tenants.js';
import { runSql, sqliteUrl } from '../helper.js';

t.test('a service is read again once its second has passed; changes here are seen at once', async (t) => {
  const url = await sqliteUrl(t);
  await migrate('sqlite', url, { info() {}, warn() {} });
  const database = await openDatabase('sqlite', url);
  t.teardown(() => database.close());
  let now = 1_000_000;
  const tenants = new CachedTenantStore(new SqlTenantStore(database), () => now);
  const sid = 'VA0123456789abcdef0123456789abcdef';

  t.equal(await tenants.find(sid), null, 'unknown');
  await runSql(
    url,
    `INSERT INTO services (id, name, settings, created_at) VALUES ('${sid}', 'Shop', '{}', '2026-12-01 00:00:00')`,
  );
  t.equal((await tenants.find(sid))?.name, 'Shop', 'an unknown SID was not kept: the new row is found');

  await runSql(url, `UPDATE services SET name = 'Renamed elsewhere' WHERE id = '${sid}'`);
  t.equal((await tenants.find(sid))?.name, 'Shop', 'within the second: the kept row');
  now += TENANT_CACHE_MS;
  t.equal((await tenants.find(sid))?.name, 'Renamed elsewhere', 'after it: read again');

  const current = (await tenants.find(sid))!;
  await tenants.update({ ...current, name: 'Renamed here' });
  t.equal((await tenants.find(sid))?.name, 'Renamed here', 'an update through the cache is seen at once');
  t.equal(await tenants.delete(sid), true);
  t.equal(await tenants.find(sid), null, 'a delete through the cache is seen at once');
});
