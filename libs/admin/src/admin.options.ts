/** Injection token of AdminModule's options. */
export const ADMIN_OPTIONS = Symbol('ADMIN_OPTIONS');

export interface AdminModuleOptions {
  /** End the process (status 0) once POST /admin/shutdown has stopped everything. Default true. */
  exitProcess?: boolean;
}
