import { hash, verify } from "@node-rs/argon2";

/**
 * Password hashing: argon2id (the library's default algorithm) with its default cost
 * (19 MiB, 2 passes), stored as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
 */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

let dummy: Promise<string> | undefined;

/**
 * Checks a password against a stored hash. With no hash (unknown email) it still spends one
 * verification against a dummy hash, so the answer takes as long either way.
 */
export async function verifyPassword(stored: string | undefined, password: string): Promise<boolean> {
  if (stored === undefined) {
    dummy ??= hash("synapse-dummy-password-for-timing");
    await verify(await dummy, password).catch(() => false);
    return false;
  }
  return verify(stored, password).catch(() => false);
}
