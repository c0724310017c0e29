/**
 * How the commands reach a Schema Registry: the URL from a flag or
 * KONTRACT_REGISTRY_URL, credentials from the environment only (flags end up
 * in shell history and process lists), and the URL shown without them.
 */
import { createRestRegistry, type RestRegistry } from "../registry/rest/index.js";
import { UsageError } from "./check.js";

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The registry named by `flag`, else by KONTRACT_REGISTRY_URL, else by the
 * configuration's `registry.url`. Throws UsageError when none is set.
 */
export function registryFromEnv(flag: string | undefined, env: Env, configured?: string): { registry: RestRegistry; where: string } {
  const url = flag ?? (env.KONTRACT_REGISTRY_URL || configured);
  if (url === undefined || url === "") throw new UsageError("no registry: give --registry <url>, set KONTRACT_REGISTRY_URL, or set registry.url in kontract.config.yaml");
  return { registry: createRestRegistry({ url, ...authFromEnv(env) }), where: redactedUrl(url) };
}

/** KONTRACT_REGISTRY_TOKEN (bearer), else KONTRACT_REGISTRY_USER and KONTRACT_REGISTRY_PASSWORD (basic). */
export function authFromEnv(env: Env): { auth?: { username: string; password: string } | { bearerToken: string } } {
  const token = env.KONTRACT_REGISTRY_TOKEN;
  if (token) return { auth: { bearerToken: token } };
  const username = env.KONTRACT_REGISTRY_USER;
  if (username) return { auth: { username, password: env.KONTRACT_REGISTRY_PASSWORD ?? "" } };
  return {};
}

/** The URL without credentials, for output. */
function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/$/, "");
  } catch {
    return "the registry";
  }
}
