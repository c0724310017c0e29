/** A value now, or later. Lets hot paths stay synchronous when everything is cached. */
export type MaybePromise<T> = T | Promise<T>;

export function then<T, R>(value: MaybePromise<T>, fn: (v: T) => MaybePromise<R>): MaybePromise<R> {
  return value instanceof Promise ? value.then(fn) : fn(value);
}
