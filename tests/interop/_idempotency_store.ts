// An idempotency provider over go-go-scope's MySQL idempotency table
// (go_goscope_idempotency, the same columns and JSON text), for the interop
// test: go-go-scope's own MySQLIdempotencyAdapter cannot run on MariaDB or
// MySQL (its SQL uses the reserved word `key` unquoted), so this one stands in
// for it to show that results cross processes in go-go-scope's format.
import type { IdempotencyProvider } from "../../src/core/mod.ts";
import type { Pool } from "./_mysql_deps.ts";

/** UTC "YYYY-MM-DD HH:MM:SS", as go-go-scope's adapter writes expiry times. */
function utc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

export class MariaDbIdempotencyStore implements IdempotencyProvider {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  async connect(): Promise<void> {
    await this.#pool.query(
      "CREATE TABLE IF NOT EXISTS go_goscope_idempotency (" +
        "`key` VARCHAR(255) PRIMARY KEY, value JSON NOT NULL, expires_at TIMESTAMP NULL, " +
        "created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, " +
        "updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP)",
    );
  }

  async get<T>(key: string): Promise<{ value: T; expiresAt?: number } | null> {
    const [rows] = await this.#pool.query(
      "SELECT value FROM go_goscope_idempotency WHERE `key` = ? " +
        "AND (expires_at IS NULL OR expires_at > UTC_TIMESTAMP())",
      [key],
    );
    const row = (rows as { value: unknown }[])[0];
    if (row === undefined) return null;
    const value = typeof row.value === "string" ? JSON.parse(row.value) : row.value;
    return { value: value as T };
  }

  async set<T>(key: string, value: T, ttl?: number): Promise<void> {
    await this.#pool.query(
      "INSERT INTO go_goscope_idempotency (`key`, value, expires_at) VALUES (?, ?, ?) " +
        "ON DUPLICATE KEY UPDATE value = VALUES(value), expires_at = VALUES(expires_at)",
      [key, JSON.stringify(value), ttl === undefined ? null : utc(Date.now() + ttl)],
    );
  }

  async delete(key: string): Promise<void> {
    await this.#pool.query("DELETE FROM go_goscope_idempotency WHERE `key` = ?", [key]);
  }
}
