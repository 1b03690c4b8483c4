/**
 * The example app's typed RPC methods: a small task tracker. Turbine serves them in-process with
 * `rpc.handlers_module: examples/tasks/handlers.ts`, and backend.ts serves them behind an RPC proxy.
 * `turbine gen-clients --handlers examples/tasks/handlers.ts --output examples/tasks/clients --all` writes the
 * clients in clients/.
 */
import { z } from "zod";
import { defineRpc, RpcError, RpcRegistry } from "../../src/rpc/index.js";

const Priority = z.enum(["low", "normal", "high"]).meta({ id: "Priority" });
const Status = z.enum(["open", "done", "archived"]).meta({ id: "Status" });

const Person = z.object({ id: z.string(), name: z.string() }).meta({ id: "Person" });

// `meta({ id })` names a schema in the contract's $defs, so generated clients share one Task type; the stats
// method's params and result are named as the typed-RPC guide's examples name them (TaskStatsParams).

/** What happened to a task last: a comment, or a status change. */
const Activity = z
  .discriminatedUnion("kind", [
    z.object({ kind: z.literal("comment"), author: z.string(), text: z.string() }),
    z.object({ kind: z.literal("status_change"), from: Status, to: Status }),
  ])
  .meta({ id: "Activity" });

const Task = z
  .object({
    id: z.string(),
    title: z.string(),
    status: Status,
    priority: Priority,
    tags: z.array(z.string()),
    assignee: Person.nullable(),
    due_date: z.string().optional(),
    last_activity: Activity.optional(),
  })
  .meta({ id: "Task", description: "A task as clients see it." });

const tasks: z.infer<typeof Task>[] = [
  {
    id: "t1",
    title: "Write the README",
    status: "done",
    priority: "normal",
    tags: ["docs"],
    assignee: { id: "42", name: "Ada" },
    last_activity: { kind: "status_change", from: "open", to: "done" },
  },
  {
    id: "t2",
    title: "Fix the flaky test",
    status: "open",
    priority: "high",
    tags: ["ci", "tests"],
    assignee: null,
    due_date: "2026-12-01",
    last_activity: { kind: "comment", author: "Ada", text: "fails on slow machines" },
  },
  { id: "t3", title: "Plan the release", status: "open", priority: "low", tags: [], assignee: null },
];

export const getStats = defineRpc(
  "tasks.get_stats",
  {
    description: "Task counts for a user, by status and priority.",
    params: z
      .object({
        user_id: z.string().min(1),
        /** Count done tasks too (the default); false leaves them out. */
        include_completed: z.boolean().optional(),
        include_archived: z.boolean().optional(),
      })
      .meta({ id: "TaskStatsParams" }),
    result: z
      .object({
        user_id: z.string(),
        total: z.number().int(),
        completed: z.number().int(),
        pending: z.number().int(),
        by_priority: z.object({ low: z.number().int(), normal: z.number().int(), high: z.number().int() }),
      })
      .meta({ id: "TaskStatsResult" }),
  },
  ({ user_id, include_completed, include_archived }) => {
    const counted = tasks.filter(
      (task) =>
        (include_archived === true || task.status !== "archived") &&
        (include_completed !== false || task.status !== "done"),
    );
    const count = (priority: z.infer<typeof Priority>) =>
      counted.filter((task) => task.priority === priority).length;
    return {
      user_id,
      total: counted.length,
      completed: counted.filter((task) => task.status === "done").length,
      pending: counted.filter((task) => task.status === "open").length,
      by_priority: { low: count("low"), normal: count("normal"), high: count("high") },
    };
  },
);

export const list = defineRpc(
  "tasks.list",
  {
    description: "Tasks matching a filter, at most `limit` (1–100).",
    params: z.object({
      limit: z.number().int().min(1).max(100),
      filter: z.object({
        status: Status.optional(),
        priority: Priority.optional(),
        tag: z.string().optional(),
      }),
    }),
    result: z.object({ tasks: z.array(Task), total: z.number().int() }),
  },
  ({ limit, filter }) => {
    const matching = tasks.filter(
      (task) =>
        (filter.status === undefined || task.status === filter.status) &&
        (filter.priority === undefined || task.priority === filter.priority) &&
        (filter.tag === undefined || task.tags.includes(filter.tag)),
    );
    return { tasks: matching.slice(0, limit), total: matching.length };
  },
);

export const get = defineRpc(
  "tasks.get",
  {
    description: "One task by id; error 404 when there is none.",
    params: z.object({ id: z.string() }),
    result: Task,
  },
  ({ id }) => {
    const task = tasks.find((candidate) => candidate.id === id);
    if (task === undefined) throw new RpcError(404, `task ${id} not found`);
    return task;
  },
);

export const exportReport = defineRpc(
  "reports.export",
  {
    description: "Builds a report; takes `delay_ms` (a stand-in for slow work).",
    params: z.object({ delay_ms: z.number().int().min(0).max(60_000), format: z.enum(["csv", "pdf"]) }),
    result: z.object({ url: z.string(), size: z.union([z.number().int(), z.string()]) }),
  },
  async ({ delay_ms, format }) => {
    await new Promise((resolve) => setTimeout(resolve, delay_ms));
    return { url: `https://example.com/report.${format}`, size: format === "csv" ? 1024 : "unknown" };
  },
);

export default new RpcRegistry([getStats, list, get, exportReport]);
