/** Compares two config objects ignoring the line they were declared on. */
export function sameExceptLine(a: object, b: object): boolean {
  const strip = (value: object): string => JSON.stringify({ ...value, line: 0 });
  return strip(a) === strip(b);
}
