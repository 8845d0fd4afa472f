const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a UUID in its canonical text form (the only form ids take here). */
export function isUuid(s: string): boolean {
  return UUID.test(s);
}
