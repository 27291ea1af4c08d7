// TenantStore on SQLite and PostgreSQL: the `services` statements of the dialect's SQL.
import type { Tenant, TenantSettings, TenantStore } from '../verification/tenants.js';
import type { Database } from './database.js';
import type { Row, SqlParams, SqlResult, Statement } from './statement.js';
import { runStoreStatement } from './unavailable.js';

/** PostgreSQL's jsonb column arrives parsed, SQLite's text column as JSON text. */
function settingsOf(value: unknown): TenantSettings {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      // A row written by hand with text that is not JSON keeps the deployment's settings.
      return {};
    }
  }
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as TenantSettings) : {};
}

function toTenant(row: Row): Tenant {
  const settings = settingsOf(row.settings);
  const created = row.created_at;
  return {
    id: String(row.id),
    name: String(row.name),
    settings,
    createdAt:
      created instanceof Date
        ? created
        : new Date(
            `${String(created).replace(' ', 'T')}${/Z|[+-]\d\d:?\d\d$/.test(String(created)) ? '' : 'Z'}`,
          ),
  };
}

export class SqlTenantStore implements TenantStore {
  readonly #database: Database;
  readonly #sql: Database['sql']['services'];

  constructor(database: Database) {
    this.#database = database;
    this.#sql = database.sql.services;
  }

  #run(statement: Statement, params: SqlParams): Promise<SqlResult> {
    return runStoreStatement(this.#database, statement, params);
  }

  async insert(tenant: Tenant): Promise<Tenant> {
    const { rows } = await this.#run(this.#sql.insert, {
      id: tenant.id,
      name: tenant.name,
      settings: JSON.stringify(tenant.settings),
      now: tenant.createdAt,
    });
    return toTenant(rows[0]!);
  }

  async find(id: string): Promise<Tenant | null> {
    const { rows } = await this.#run(this.#sql.find, { id });
    return rows[0] ? toTenant(rows[0]) : null;
  }

  async update(tenant: Tenant): Promise<Tenant | null> {
    const { rows } = await this.#run(this.#sql.update, {
      id: tenant.id,
      name: tenant.name,
      settings: JSON.stringify(tenant.settings),
    });
    return rows[0] ? toTenant(rows[0]) : null;
  }

  async delete(id: string): Promise<boolean> {
    await this.#run(this.#sql.deleteVerifications, { id });
    const { changes } = await this.#run(this.#sql.delete, { id });
    return changes > 0;
  }

  async list(limit: number, offset: number): Promise<Tenant[]> {
    const { rows } = await this.#run(this.#sql.list, { limit, offset });
    return rows.map(toTenant);
  }
}
