import { type Config, isUuid } from "@synapse/shared";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";

export interface AccessToken {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
}

function key(config: Pick<Config, "SECRET_KEY">): Uint8Array {
  return new TextEncoder().encode(config.SECRET_KEY);
}

/** Signs an HS256 JWT with `sub` = user id, `iat` and `exp`. */
export async function issueAccessToken(
  config: Pick<Config, "SECRET_KEY" | "ACCESS_TOKEN_EXPIRE_MINUTES">,
  userId: string,
): Promise<AccessToken> {
  const expiresIn = config.ACCESS_TOKEN_EXPIRE_MINUTES * 60;
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(`${expiresIn}s`)
    .sign(key(config));
  return { access_token: token, token_type: "bearer", expires_in: expiresIn };
}

/** The user id of a valid token, or undefined for a bad, expired or foreign one. */
export async function verifyAccessToken(
  config: Pick<Config, "SECRET_KEY">,
  token: string,
): Promise<string | undefined> {
  try {
    const { payload } = await jwtVerify(token, key(config), { algorithms: ["HS256"] });
    const sub = payload.sub;
    return typeof sub === "string" && isUuid(sub) ? sub : undefined;
  } catch (err) {
    if (err instanceof joseErrors.JOSEError || err instanceof TypeError) return undefined;
    throw err;
  }
}
