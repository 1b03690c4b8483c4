/**
 * Publication tags filters (SubscribeRequest `tf`, namespace `allow_tags_filter`): a tree of `and`/`or`/`not`
 * nodes over leaf comparisons of one tag, with Centrifugo's operators and validation rules.
 */
import type { FilterNode } from "../protocol/index.js";

/** Why a filter is malformed, or undefined when it is fine. */
export function filterProblem(node: FilterNode): string | undefined {
  switch (node.op) {
    case "":
      return leafProblem(node);
    case "and":
    case "or":
      if (node.nodes.length === 0) return `${node.op} node must have at least one child`;
      return node.nodes.map(filterProblem).find((problem) => problem !== undefined);
    case "not":
      if (node.nodes.length !== 1) return "not node must have exactly one child";
      return filterProblem(node.nodes[0] as FilterNode);
    default:
      return `invalid op: ${node.op}`;
  }
}

const needsVal = new Set(["eq", "neq", "sw", "ew", "ct", "gt", "gte", "lt", "lte"]);

function leafProblem(node: FilterNode): string | undefined {
  if (node.cmp === "") return "leaf node must have cmp set";
  if (needsVal.has(node.cmp)) {
    if (node.val === "") return `${node.cmp} comparison requires val`;
    if (node.vals.length > 0) return `${node.cmp} comparison must not use vals`;
  } else if (node.cmp === "in" || node.cmp === "nin") {
    if (node.vals.length === 0) return `${node.cmp} comparison requires non-empty vals`;
    if (node.val !== "") return `${node.cmp} comparison must not use val`;
  } else if (node.cmp === "ex" || node.cmp === "nex") {
    if (node.val !== "" || node.vals.length > 0) return `${node.cmp} comparison must not use val or vals`;
  } else {
    return `unknown comparison operator: ${node.cmp}`;
  }
  if (node.key === "" && node.cmp !== "ex" && node.cmp !== "nex") return "leaf node requires key";
  return undefined;
}

/** Whether a publication with `tags` passes a (validated) filter. */
export function matchesFilter(node: FilterNode, tags: Readonly<Record<string, string>>): boolean {
  switch (node.op) {
    case "and":
      return node.nodes.every((child) => matchesFilter(child, tags));
    case "or":
      return node.nodes.some((child) => matchesFilter(child, tags));
    case "not":
      return !matchesFilter(node.nodes[0] as FilterNode, tags);
    default:
      return matchesLeaf(node, Object.hasOwn(tags, node.key) ? tags[node.key] : undefined);
  }
}

function matchesLeaf(node: FilterNode, value: string | undefined): boolean {
  switch (node.cmp) {
    case "eq":
      return value === node.val;
    case "neq":
      return value !== node.val;
    case "in":
      return node.vals.includes(value ?? "");
    case "nin":
      return !node.vals.includes(value ?? "");
    case "ex":
      return value !== undefined;
    case "nex":
      return value === undefined;
    case "sw":
      return value?.startsWith(node.val) === true;
    case "ew":
      return value?.endsWith(node.val) === true;
    case "ct":
      return value?.includes(node.val) === true;
    default:
      return matchesNumber(node.cmp, value, node.val);
  }
}

function matchesNumber(cmp: string, value: string | undefined, bound: string): boolean {
  if (value === undefined) return false;
  const order = compareDecimals(value, bound);
  if (order === undefined) return false;
  if (cmp === "gt") return order > 0;
  if (cmp === "gte") return order >= 0;
  if (cmp === "lt") return order < 0;
  return order <= 0;
}

const decimal = /^([+-]?)(\d+)(?:\.(\d+))?$/;

/** Exact comparison of two decimal strings (no float rounding); undefined when either is not a decimal. */
export function compareDecimals(a: string, b: string): number | undefined {
  const x = decimal.exec(a);
  const y = decimal.exec(b);
  if (x === null || y === null) return undefined;
  const sign = (m: RegExpExecArray) => (isZero(m) ? 0 : m[1] === "-" ? -1 : 1);
  const [sx, sy] = [sign(x), sign(y)];
  if (sx !== sy) return Math.sign(sx - sy);
  return sx * compareMagnitudes(x, y);
}

function isZero(m: RegExpExecArray): boolean {
  return /^0*$/.test(m[2] ?? "") && /^0*$/.test(m[3] ?? "");
}

function compareMagnitudes(x: RegExpExecArray, y: RegExpExecArray): number {
  const intX = (x[2] ?? "").replace(/^0+/, "");
  const intY = (y[2] ?? "").replace(/^0+/, "");
  if (intX.length !== intY.length) return Math.sign(intX.length - intY.length);
  if (intX !== intY) return intX < intY ? -1 : 1;
  const width = Math.max((x[3] ?? "").length, (y[3] ?? "").length);
  const fracX = (x[3] ?? "").padEnd(width, "0");
  const fracY = (y[3] ?? "").padEnd(width, "0");
  return fracX === fracY ? 0 : fracX < fracY ? -1 : 1;
}
