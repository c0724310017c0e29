/**
 * What the cloud KMS drivers share: their SDK is an optional peer, loaded on
 * the first wrap or unwrap (never on `import "kontract"`), and a failed call
 * becomes key-unavailable, retriable only when a retry may help.
 */
import { KontractError } from "../errors.js";

/** A loader that imports the SDK once; a failed import is retried on the next call and names the packages to install. */
export function optionalPeer<T>(driver: string, packages: string, load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () =>
    (loaded ??= load().catch((e: unknown) => {
      loaded = undefined;
      throw new KontractError("encryption", `${driver} needs its SDK: npm install ${packages}`, { cause: e });
    }));
}

/** A failure to reach the service at all (refused, reset, timed out, no DNS answer): a retry may succeed. */
export function isNetworkFailure(name: string | undefined, code: unknown, message: string | undefined): boolean {
  return (typeof code === "string" && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|ECONNABORTED)$/.test(code)) || /Timeout|Network|ECONN|socket hang up/i.test(`${name ?? ""} ${message ?? ""}`);
}

/** An HTTP status a retry may clear: throttling or a server error. */
export const retriableStatus = (status: number | undefined): boolean => status !== undefined && (status === 408 || status === 429 || status >= 500);
