/**
 * A reader of the Prometheus text exposition format (version 0.0.4), enough for tests: `# TYPE` lines and
 * samples with their labels, so that a test asks "what is the value of this series" as a PromQL selector would.
 */
import { rawRequest } from "../helpers/api.js";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class Exposition {
  /** Family name → `counter`, `gauge`, `histogram`, `summary`, `untyped`. */
  readonly types = new Map<string, string>();
  readonly samples: Sample[] = [];

  constructor(readonly text: string) {
    for (const line of text.split("\n")) {
      if (line.startsWith("# TYPE ")) {
        const [, , name = "", type = ""] = line.split(" ");
        this.types.set(name, type);
      } else if (line !== "" && !line.startsWith("#")) {
        this.samples.push(parseSample(line));
      }
    }
  }

  /** The samples of `name` whose labels include `labels`. */
  series(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter(
      (sample) =>
        sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    );
  }

  /** The sum of the matching samples' values (0 when none match), as `sum(name{labels})`. */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.series(name, labels).reduce((sum, sample) => sum + sample.value, 0);
  }
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parseSample(line: string): Sample {
  const match = SAMPLE.exec(line);
  if (match === null) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
  const [, name = "", labelText = "", value = ""] = match;
  const labels: Record<string, string> = {};
  for (const [, key = "", raw = ""] of labelText.matchAll(LABEL)) labels[key] = raw.replace(/\\(.)/g, "$1");
  return { name, labels, value: value.toLowerCase() === "nan" ? NaN : Number(value) };
}

/** GET `path` (default `/metrics`) on `port`: the status, content type and parsed body. */
export async function scrape(
  port: number,
  path = "/metrics",
): Promise<{ status: number; contentType: string; metrics: Exposition }> {
  const res = await rawRequest(port, path, { method: "GET" });
  return {
    status: res.status,
    contentType: String(res.headers["content-type"]),
    metrics: new Exposition(res.text),
  };
}
