// Services are read on every /v2 request (its SID is in the path) and change rarely, so each
// replica keeps what it read for a second: a change made through this replica is seen at once,
// one made through another replica within TENANT_CACHE_MS. Unknown SIDs are not kept (a client
// trying SIDs would only fill the cache).
import type { Tenant, TenantStore } from './tenants.js';

/** How long a service read from the database is used without reading it again. */
export const TENANT_CACHE_MS = 1_000;
/** Beyond this many services the cache starts over (a deployment has a handful). */
const MAX_ENTRIES = 10_000;

export class CachedTenantStore implements TenantStore {
  readonly #cached = new Map<string, { tenant: Tenant; until: number }>();

  constructor(
    private readonly store: TenantStore,
    private readonly clock: () => number = Date.now,
  ) {}

  async find(id: string): Promise<Tenant | null> {
    const now = this.clock();
    const hit = this.#cached.get(id);
    if (hit && hit.until > now) return hit.tenant;
    const tenant = await this.store.find(id);
    if (tenant) this.#keep(tenant, now);
    else this.#cached.delete(id);
    return tenant;
  }

  async insert(tenant: Tenant): Promise<Tenant> {
    const inserted = await this.store.insert(tenant);
    this.#keep(inserted, this.clock());
    return inserted;
  }

  async update(tenant: Tenant): Promise<Tenant | null> {
    this.#cached.delete(tenant.id);
    const updated = await this.store.update(tenant);
    if (updated) this.#keep(updated, this.clock());
    return updated;
  }

  async delete(id: string): Promise<boolean> {
    this.#cached.delete(id);
    const deleted = await this.store.delete(id);
    this.#cached.delete(id);
    return deleted;
  }

  list(limit: number, offset: number): Promise<Tenant[]> {
    return this.store.list(limit, offset);
  }

  #keep(tenant: Tenant, now: number): void {
    if (this.#cached.size >= MAX_ENTRIES) this.#cached.clear();
    this.#cached.set(tenant.id, { tenant, until: now + TENANT_CACHE_MS });
  }
}
