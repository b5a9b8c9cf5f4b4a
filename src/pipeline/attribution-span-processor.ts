import type { Attributes, Context, SpanContext } from '@opentelemetry/api';
import {
  type Actor,
  type Attribution,
  getAttribution,
  isNestedIn,
  localRoot,
  parseAttribution,
} from '../attribution/attribution.js';
import { actorFromEnv, taskDefaultsFromEnv } from '../config/env.js';
import { reportProblem } from '../metrics/problem-channel.js';
import type { ReadableSpan, Span, SpanProcessor } from '../otel/sdk-interfaces.js';
import { attributionToAttributes, type SpanAttributeOptions } from './span-attributes.js';

/** Options of {@link AttributionSpanProcessor}. */
export interface AttributionSpanProcessorOptions extends SpanAttributeOptions {
  /**
   * The actor of spans started outside any attribution: this process's own identity. Defaults to
   * `ONBEHALF_AGENT_ID` / `ONBEHALF_AGENT_NAME` / `ONBEHALF_AGENT_OWNER` (an agent), if set.
   */
  defaultActor?: Actor;
  /**
   * Principal and trigger of spans started outside any attribution, with the default actor, for an
   * agent that runs one task per process and cannot set them in code. Default to
   * `ONBEHALF_ON_BEHALF_OF` and `ONBEHALF_TRIGGER` (`type:id`), if set.
   */
  defaultTask?: Pick<Attribution, 'principal' | 'trigger'>;
  /** Where to read `ONBEHALF_AGENT_*` from; `process.env` by default. */
  env?: Record<string, string | undefined>;
}

/** Counters of what the processor could not do; it never throws into the host application. */
export interface AttributionProcessorStats {
  /** Spans that reached this processor. */
  seen: number;
  /** Spans stamped with an attribution from context. */
  stamped: number;
  /** Spans stamped with the default actor only. */
  defaulted: number;
  /** Spans left unstamped because stamping threw. */
  failed: number;
  /**
   * Spans whose start context carried another attribution than their parent span's (a framework
   * that starts spans from whatever context a background callback queue runs in): stamped with the
   * parent's.
   */
  parentWon: number;
}

/**
 * Spans of this process whose attribution is remembered for their children, at least: the oldest
 * are forgotten, a generation of this many at a time.
 */
const REMEMBERED_SPANS = 8192;

/**
 * Stamps every span at start with the attribution of its parent context (who acts, on whose behalf,
 * why, under what authority), or with the process's default actor when there is none.
 *
 * The attribute set of an attribution is computed once and reused for every span under it, since an
 * attribution in context is immutable; the hot path is one map lookup and one `setAttributes`.
 */
export class AttributionSpanProcessor implements SpanProcessor {
  readonly stats: AttributionProcessorStats = { seen: 0, stamped: 0, defaulted: 0, failed: 0, parentWon: 0 };
  /**
   * Span id → the attribution it was stamped with (null: none), for spans started in this process:
   * the current generation and the one before it. Dropping a whole generation at once costs nothing
   * per span, where evicting the oldest entry on every start made the map itself a hot spot.
   */
  private bySpan = new Map<string, Readonly<Attribution> | null>();
  private bySpanBefore = new Map<string, Readonly<Attribution> | null>();
  private readonly cache = new WeakMap<object, Attributes>();
  private readonly defaultAttributes: Attributes | undefined;
  /** The default actor alone: what an unverified claim is merged with, never the default principal. */
  private readonly defaultActorAttributes: Attributes | undefined;
  private readonly defaultActor: Actor | undefined;
  private readonly defaultTaskAttribution: Readonly<Attribution> | undefined;

  constructor(private readonly options: AttributionSpanProcessorOptions = {}) {
    const env = options.env ?? process.env;
    const actor = options.defaultActor ?? actorFromEnv(env);
    if (actor) {
      // Validated once here, so a broken default is reported at start-up, not per span.
      const task = parseAttribution({ actor, ...(options.defaultTask ?? taskDefaultsFromEnv(env)) });
      this.defaultActor = task.actor;
      this.defaultTaskAttribution = localRoot(task);
      this.defaultActorAttributes = attributionToAttributes(
        { actor: this.defaultActor, provenance: 'local' },
        options,
      );
      this.defaultAttributes =
        task.principal || task.trigger
          ? attributionToAttributes(this.defaultTaskAttribution, options)
          : this.defaultActorAttributes;
    }
  }

  onStart(span: Span, parentContext: Context): void {
    this.stats.seen++;
    try {
      const attribution = this.attributionOf(span, parentContext);
      this.remember(span.spanContext().spanId, attribution);
      if (attribution) {
        span.setAttributes(this.attributesOf(attribution));
        this.stats.stamped++;
      } else if (this.defaultAttributes) {
        span.setAttributes(this.defaultAttributes);
        this.stats.defaulted++;
      }
    } catch (err) {
      this.stats.failed++;
      reportProblem({
        code: 'attribution.unstamped',
        component: 'attribution-span-processor',
        message: 'could not stamp attribution on span',
        cause: err,
        source: this,
      });
    }
  }

  /**
   * A span's attribution is that of its own trace: the parent span's, when the parent started in this
   * process with one, unless the context's is a delegation nested inside it. A context that carries
   * a stranger's attribution (another request's, handed over by a shared callback queue) loses.
   */
  private attributionOf(span: Span, parentContext: Context): Readonly<Attribution> | undefined {
    const fromContext = getAttribution(parentContext);
    const parent = (span as { parentSpanContext?: SpanContext }).parentSpanContext;
    // A remote parent came in with its own attribution (verified or a claim): the context has it.
    const fromParent = parent && !parent.isRemote ? this.rememberedOf(parent.spanId) : undefined;
    if (!fromParent || fromContext === fromParent || (fromContext && isNestedIn(fromContext, fromParent))) {
      return fromContext;
    }
    this.stats.parentWon++;
    return fromParent;
  }

  private remember(spanId: string, attribution: Readonly<Attribution> | undefined): void {
    if (this.bySpan.size >= REMEMBERED_SPANS) {
      this.bySpanBefore = this.bySpan;
      this.bySpan = new Map();
    }
    this.bySpan.set(spanId, attribution ?? null);
  }

  private rememberedOf(spanId: string): Readonly<Attribution> | null | undefined {
    const current = this.bySpan.get(spanId);
    return current !== undefined ? current : this.bySpanBefore.get(spanId);
  }

  private attributesOf(attribution: Readonly<Attribution>): Attributes {
    let attributes = this.cache.get(attribution);
    if (!attributes) {
      // Anyone can put a value in context (contextWithAttribution), so it is validated here, once per
      // attribution object: a malformed, oversized or hostile value throws into the catch of onStart
      // instead of reaching a span.
      attributes = attributionToAttributes(parseAttribution(attribution), this.options);
      // A claimed (unverified) attribution names nobody: this process's own actor is who acted.
      if (attribution.provenance === 'unverified' && this.defaultActorAttributes) {
        attributes = Object.freeze({
          ...attributes,
          ...this.defaultActorAttributes,
          'attribution.provenance': 'unverified',
        });
      }
      this.cache.set(attribution, attributes);
    }
    return attributes;
  }

  /**
   * The attribution of spans started outside any: the default actor, with the default principal and
   * trigger if set. What the process propagates when the context carries none.
   */
  get defaultAttribution(): Readonly<Attribution> | undefined {
    return this.defaultTaskAttribution;
  }

  /** The process's default actor, if one is configured. */
  get actor(): Actor | undefined {
    return this.defaultActor;
  }

  onEnd(_span: ReadableSpan): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
