/** Tag sets of fields. */

/** Whether a field's tags include any of `tags`. */
export function hasAnyTag(fieldTags: ReadonlySet<string>, tags: ReadonlySet<string>): boolean {
  for (const t of tags) if (fieldTags.has(t)) return true;
  return false;
}
