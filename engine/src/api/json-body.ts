// JSON request bodies, bounded before anything else looks at them (authentication included): a
// size limit (413) and a depth limit (400 naming the path where the body gets too deep), checked by
// one linear pass over the raw bytes before JSON.parse, so that no later walk over the parsed value
// (validation, the NUL scan, canonicalisation) ever meets a hostile shape.
import express, { type RequestHandler } from 'express';

/** How deep a JSON body may nest (objects and arrays). A pipeline document needs about 10. */
export const MAX_JSON_DEPTH = 64;
/** The largest JSON body any route takes. */
export const MAX_JSON_BYTES = 1024 * 1024;

export class JsonTooDeepError extends Error {
  readonly status = 400;
  readonly type = 'entity.too.deep';
  constructor(
    readonly path: string,
    readonly maxDepth: number,
  ) {
    super(`The request body nests deeper than ${maxDepth} levels at ${path || 'its top'}`);
  }
}

interface Frame {
  array: boolean;
  /** The current key of an object, or the index of an array. */
  key: string | number | null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Throws JsonTooDeepError when `body` nests deeper than `maxDepth`. One pass, constant work per
 * byte, memory bounded by `maxDepth`; malformed JSON is left for JSON.parse to report.
 */
export function checkJsonDepth(body: Buffer, maxDepth = MAX_JSON_DEPTH): void {
  const stack: Frame[] = [];
  let inString = false;
  let escaped = false;
  let stringStart = -1;
  // In an object: true between `{` or `,` and the key that follows.
  let expectKey = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === BACKSLASH) escaped = true;
      else if (c === QUOTE) {
        inString = false;
        const top = stack[stack.length - 1];
        if (expectKey && top && !top.array) {
          top.key = decodeKey(body, stringStart, i + 1);
          expectKey = false;
        }
      }
      continue;
    }
    switch (c) {
      case QUOTE:
        inString = true;
        stringStart = i;
        break;
      case 0x7b: // {
      case 0x5b: {
        // [
        if (stack.length >= maxDepth) throw new JsonTooDeepError(formatFrames(stack), maxDepth);
        const array = c === 0x5b;
        stack.push({ array, key: array ? 0 : null });
        expectKey = !array;
        break;
      }
      case 0x7d: // }
      case 0x5d: // ]
        stack.pop();
        expectKey = false;
        break;
      case 0x2c: {
        // ,
        const top = stack[stack.length - 1];
        if (top?.array) top.key = (top.key as number) + 1;
        else if (top) expectKey = true;
        break;
      }
      default:
        break;
    }
  }
}

function decodeKey(body: Buffer, start: number, end: number): string {
  // Keys on the way down are short in practice; a long one is cut for the message.
  const raw = body.subarray(start, Math.min(end, start + 200)).toString('utf8');
  try {
    return JSON.parse(end - start > 200 ? `${raw}…"` : raw) as string;
  } catch {
    return raw.slice(1, -1);
  }
}

/** `nodes[0].config.a` from the frames above the point where the body got too deep. */
function formatFrames(stack: Frame[]): string {
  let path = '';
  for (const frame of stack) {
    if (frame.key === null) continue;
    if (typeof frame.key === 'number') path += `[${frame.key}]`;
    else path += /^[A-Za-z_$][\w$]*$/.test(frame.key) ? `.${frame.key}` : `[${JSON.stringify(frame.key)}]`;
  }
  return path.replace(/^\./, '');
}

/** express.json with the size limit and, before parsing, the depth check. */
export function jsonBody(options: { maxBytes?: number; maxDepth?: number } = {}): RequestHandler {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  return express.json({
    limit: options.maxBytes ?? MAX_JSON_BYTES,
    type: ['application/json', 'application/*+json'],
    verify: (_req, _res, buffer) => checkJsonDepth(buffer, maxDepth),
  });
}
