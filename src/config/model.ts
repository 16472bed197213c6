// What a loaded config is: its tenants with where each was read, and the documents it came from.
import type { ConfigProblem } from './problems.js';
import type { TenantConfig } from './schema.js';

export interface SourcedTenant extends TenantConfig {
  /** The file and JSON path the tenant was read from, for messages that name it. */
  readonly source: { readonly file: string; readonly path: string };
}

export interface Config {
  readonly tenants: readonly SourcedTenant[];
  /** Host names of the service itself: the tenant comes from the user-identifier's domain. */
  readonly serviceHosts: readonly string[];
  /** Users files by resolved path (rules' `when.usersFile` holds that path after loading). */
  readonly userLists: ReadonlyMap<string, ReadonlySet<string>>;
  /** Problems that do not stop the config from being used. */
  readonly warnings: readonly ConfigProblem[];
  /** SHA-256 of every file read (config and users files), set by loadConfig: tells a real change from a touch. */
  readonly digest?: string;
}

export interface ConfigDocument {
  /** How messages name the file. */
  readonly file: string;
  readonly text: string;
  /** Where the file is, to resolve a users file relative to it; the working directory if absent. */
  readonly path?: string;
}
