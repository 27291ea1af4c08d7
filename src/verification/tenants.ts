// Services (tenants): each has its own name (the message's {app}) and code length; every other
// setting is the deployment's. "default" is /v1's and django-phone-verify's tenant.

export interface TenantSettings {
  /** digits in a code; absent: PHONE_VERIFICATION_TOKEN_LENGTH */
  codeLength?: number;
  /** when the service was last changed (the table keeps no column for it) */
  updatedAt?: string;
}

export interface Tenant {
  id: string;
  name: string;
  settings: TenantSettings;
  createdAt: Date;
}

export interface TenantStore {
  insert(tenant: Tenant): Promise<Tenant>;
  find(id: string): Promise<Tenant | null>;
  update(tenant: Tenant): Promise<Tenant | null>;
  /** Deletes the service and its verifications; false when there was none. */
  delete(id: string): Promise<boolean>;
  list(limit: number, offset: number): Promise<Tenant[]>;
}
