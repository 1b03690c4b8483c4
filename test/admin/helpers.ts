/** What the admin tests share: requests with a deadline, the login, and the config they start from. */
import { request as httpRequest } from "node:http";

export const ADMIN_PASSWORD = "admin-password";
export const ADMIN_SECRET = "admin-secret-for-tests";

/** Admin on, with a password and a secret (merged into the test server's config). */
export const adminConfig = { admin: { enabled: true, password: ADMIN_PASSWORD, secret: ADMIN_SECRET } };

/** Rejects with a message naming what was awaited when `promise` takes longer than `ms`. */
export function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Source address of the connection (127.0.0.x), to act as another client. */
  localAddress?: string;
}

/** One HTTP request on a fresh connection, bounded. */
export function request(port: number, path: string, options: RequestOptions = {}): Promise<Answer> {
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: options.headers,
        localAddress: options.localAddress,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString("utf8") });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
  return within(answer, `${options.method ?? "GET"} ${path}`);
}

/** POST the login form (urlencoded). */
export function postPassword(port: number, password: string, options: RequestOptions = {}): Promise<Answer> {
  return request(port, "/admin/auth", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ password }).toString(),
    ...options,
  });
}

/** Log in and return the token. */
export async function login(port: number, prefix = ""): Promise<string> {
  const answer = await request(port, `${prefix}/admin/auth`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: `password=${encodeURIComponent(ADMIN_PASSWORD)}`,
  });
  if (answer.status !== 200) throw new Error(`login answered ${answer.status}: ${answer.text}`);
  return (JSON.parse(answer.text) as { token: string }).token;
}

/** The admin API route with a token: a legacy-route body, its reply lines parsed. */
export async function adminApi(port: number, token: string, body: string): Promise<Answer> {
  return request(port, "/admin/api", { method: "POST", headers: { Authorization: `token ${token}` }, body });
}
