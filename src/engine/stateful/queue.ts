/**
 * A first-in first-out queue on an array with a moving head.
 *
 * The machines evict their oldest entries from here, not by iterating their Map from the front:
 * V8 leaves a deleted Map entry as a hole until the table is rebuilt, so a Map used as a queue
 * makes every look at its front skip all the holes before it (the uniqueness bench ran at a
 * fifteenth of its speed that way).
 */
import { withGetters } from "../../util/getters.js";

export interface Queue<T> {
  push(item: T): void;
  /** The oldest item, if any. */
  peek(): T | undefined;
  /** Removes and returns the oldest item. */
  shift(): T | undefined;
  readonly length: number;
}

export function queue<T>(): Queue<T> {
  let items: (T | undefined)[] = [];
  let head = 0;
  return withGetters<Queue<T>, "length">({
    push(item) {
      items.push(item);
    },
    peek() {
      return head < items.length ? items[head] : undefined;
    },
    shift() {
      if (head >= items.length) return undefined;
      const item = items[head];
      items[head++] = undefined;
      // Drop the consumed prefix once it is half the array: amortized O(1), memory bounded by the live items.
      if (head > 1024 && head * 2 > items.length) {
        items = items.slice(head);
        head = 0;
      }
      return item;
    },
  }, {
    length: () => items.length - head,
  });
}
