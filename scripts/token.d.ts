/** Signs an HS256 JWT for `user` (roles buyer, plus admin when asked). */
export function mint(user: string, options?: { admin?: boolean; ttlSeconds?: number; key?: string }): Promise<string>;
