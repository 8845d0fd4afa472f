const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a UUID in its canonical text form (the only form ids take here). */
export function isUuid(s: string): boolean {
  return UUID.test(s);
}

/**
 * A UUID as an SQL literal, for statements sent without parameters (several in one round trip).
 * @throws TypeError for anything but a UUID, so nothing else can reach the SQL text.
 */
export function uuidLiteral(id: string): string {
  if (!UUID.test(id)) throw new TypeError(`not a uuid: ${JSON.stringify(id)}`);
  return `'${id}'`;
}
