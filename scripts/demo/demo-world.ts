/**
 * The synthetic world of the closed-loop demo: prompts in categories, users with hidden, heterogeneous preferences
 * over the feature space, and what they do with the candidates a generator shows them. Pure and seeded: no I/O, so
 * the flywheel run (through the real API) and its controls (simulated here) see the same users and the same noise.
 *
 * The utility model, and why the optimum is known:
 *   user u, category c:   w_uc = w̄_c + δ_segment(u) + τ·z_u          (hidden; z_u ~ N(0, I))
 *   candidate x:          x = θ_c + σ·ξ,  ξ ~ N(0, I)                 (the generator: a Gaussian policy per category)
 *   utility:              U = w_uc·x + ε,  ε ~ N(0, noise²)
 * Averaged over the population, over the candidate noise and over ε: E[U | c] = w̄ᵖᵒᵖ_c·θ_c, with w̄ᵖᵒᵖ_c the mean
 * of w_uc over the users. Under the generator's norm constraint ‖θ_c‖ ≤ R that is maximised by
 * θ*_c = R·w̄ᵖᵒᵖ_c/‖w̄ᵖᵒᵖ_c‖, worth R·‖w̄ᵖᵒᵖ_c‖: the best possible generator, in closed form.
 */

/** Subjects per category; a prompt is a subject in a style, so most requests have a prompt of their own. */
export const CATEGORY_SUBJECTS: Readonly<Record<string, readonly string[]>> = {
  pets: [
    'a corgi surfing at sunset', 'a kitten chasing a laser dot', 'a golden retriever in the snow', 'a parrot dancing to jazz',
    'a hamster running a tiny marathon', 'two puppies sharing a shoe', 'a cat knocking a cup off a table', 'a horse galloping on a beach',
  ],
  travel: [
    'drone shot over the Dolomites', 'neon city street in the rain', 'a night train through the Alps', 'morning market in Hanoi',
    'hot air balloons over Cappadocia', 'a ferry arriving in Santorini', 'northern lights over a cabin', 'walking tour of old Kyoto',
  ],
  food: [
    'timelapse of a blooming rose cake', 'ramen being assembled in slow motion', 'pouring honey on pancakes', 'a street taco stand at night',
    'sourdough rising overnight', 'latte art in close-up', 'sizzling dumplings in a pan', 'chocolate fountain macro shot',
  ],
  scifi: [
    'astronaut cooking ramen on the moon', 'a city floating above the clouds', 'robots repairing a starship', 'a portal opening in a forest',
    'a mech walking through Tokyo', 'alien plants glowing at night', 'a space elevator at dawn', 'a time traveller in ancient Rome',
  ],
};

export const STYLES = ['cinematic', 'in watercolor', 'as claymation', 'shot on 35mm film', 'in slow motion', 'at golden hour'] as const;

export const CATEGORY_PROMPTS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(CATEGORY_SUBJECTS).map(([category, subjects]) => [category, subjects.flatMap((subject) => STYLES.map((style) => `${subject}, ${style}`))]),
);

export const SEGMENTS = [{ name: 'creators', share: 0.35 }, { name: 'casual', share: 0.65 }] as const;

export interface WorldOptions {
  seed: number;
  featureDim: number;
  users: number;
  /** Norm of the shared taste w̄ (before category and segment offsets). */
  tasteNorm: number;
  /** Norm of each category's offset from the shared taste. */
  categoryOffset: number;
  /** Norm of each segment's offset. */
  segmentOffset: number;
  /** τ: per-user spread of taste, per feature. */
  heterogeneity: number;
  /** Standard deviation of the per-view utility noise ε. */
  noise: number;
  /** Logit added to the first slot when a user chooses among a request's candidates. */
  positionBias: number;
  /** Inverse temperature of the choice softmax over utilities. */
  choiceSharpness: number;
}

export const DEFAULT_WORLD: WorldOptions = {
  seed: 7, featureDim: 8, users: 240, tasteNorm: 1.6, categoryOffset: 0.7, segmentOffset: 0.6, heterogeneity: 0.45,
  noise: 0.5, positionBias: 0.8, choiceSharpness: 1.5,
};

export interface SimUser {
  id: string;
  segment: string;
  /** τ·z_u + δ_segment: the user's offset from the category taste. */
  offset: Float64Array;
}

export interface Category {
  name: string;
  prompts: readonly string[];
  /** w̄_c: the category's taste before segment and user offsets. */
  taste: Float64Array;
  /** w̄ᵖᵒᵖ_c: mean over the user population of w_uc; what the true satisfaction is measured with. */
  populationTaste: Float64Array;
}

/** One view: a user sees every candidate of a request (in slot order) and reacts. */
export interface SimEvent {
  eventId: string;
  type: string;
  videoId: string;
  userId: string;
  requestId: string;
  sessionId: string;
  occurredAt: string;
  watchMs?: number;
  durationMs?: number;
  rating?: number;
}

export interface Candidate {
  videoId: string;
  features: number[];
  durationMs: number;
}

/** splitmix32 → a uniform stream and Box–Muller normals; a seed fixes every draw. */
export class Rng {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.state = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  }

  /** A stream of its own for (seed, labels…): the flywheel and its controls draw users from the same streams. */
  static of(seed: number, ...labels: (string | number)[]): Rng {
    let h = Math.trunc(seed) >>> 0;
    for (const label of labels.join('/')) h = Math.imul(h ^ label.charCodeAt(0), 0x01000193) >>> 0;
    return new Rng(h);
  }

  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  bernoulli(p: number): boolean {
    return this.next() < p;
  }
}

export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
export const norm = (a: ArrayLike<number>): number => Math.sqrt(dot(a, a));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function randomDirection(rng: Rng, dim: number, length: number): Float64Array {
  const v = Float64Array.from({ length: dim }, () => rng.normal());
  const scale = length / norm(v);
  return v.map((x) => x * scale);
}

export class DemoWorld {
  readonly options: WorldOptions;
  readonly categories: Category[];
  readonly users: SimUser[];

  constructor(options: Partial<WorldOptions> = {}) {
    const o = (this.options = { ...DEFAULT_WORLD, ...options });
    const rng = Rng.of(o.seed, 'world');
    const shared = randomDirection(rng, o.featureDim, o.tasteNorm);
    const segmentOffsets = new Map(SEGMENTS.map((s) => [s.name, randomDirection(rng, o.featureDim, o.segmentOffset)]));
    this.users = Array.from({ length: o.users }, (_, i) => {
      const draw = rng.next();
      const segment = draw < SEGMENTS[0].share ? SEGMENTS[0].name : SEGMENTS[1].name;
      const delta = segmentOffsets.get(segment)!;
      const offset = Float64Array.from({ length: o.featureDim }, (_, d) => delta[d] + o.heterogeneity * rng.normal());
      return { id: `demo-user-${String(i).padStart(3, '0')}`, segment, offset };
    });
    const meanOffset = new Float64Array(o.featureDim);
    for (const u of this.users) u.offset.forEach((x, d) => (meanOffset[d] += x / this.users.length));
    this.categories = Object.entries(CATEGORY_PROMPTS).map(([name, prompts]) => {
      const offset = randomDirection(rng, o.featureDim, o.categoryOffset);
      const taste = shared.map((x, d) => x + offset[d]);
      return { name, prompts, taste, populationTaste: taste.map((x, d) => x + meanOffset[d]) };
    });
  }

  /** True satisfaction of a generator: E[utility] over categories (requests pick one uniformly), users and noise. */
  trueSatisfaction(theta: readonly ArrayLike<number>[]): number {
    return this.categories.reduce((s, c, i) => s + dot(c.populationTaste, theta[i]), 0) / this.categories.length;
  }

  /** The best generator under ‖θ_c‖ ≤ normCap: θ*_c = R·w̄ᵖᵒᵖ_c/‖w̄ᵖᵒᵖ_c‖, worth the mean of R·‖w̄ᵖᵒᵖ_c‖. */
  optimum(normCap: number): { value: number; theta: number[][] } {
    const theta = this.categories.map((c) => Array.from(c.populationTaste, (x) => (x * normCap) / norm(c.populationTaste)));
    return { value: this.trueSatisfaction(theta), theta };
  }

  /** Mean cosine between each category's θ_c and the population taste: 1 means pointing at the optimum. */
  alignment(theta: readonly ArrayLike<number>[]): number {
    return this.categories.reduce((s, c, i) => s + dot(c.populationTaste, theta[i]) / (norm(c.populationTaste) * (norm(theta[i]) || 1)), 0) / this.categories.length;
  }

  /** The viewers of one request: distinct users drawn uniformly from the population. */
  drawViewers(rng: Rng, count: number): SimUser[] {
    const picked = new Set<number>();
    while (picked.size < Math.min(count, this.users.length)) picked.add(rng.int(this.users.length));
    return [...picked].map((i) => this.users[i]);
  }

  /** Hidden utility of one view (a fresh ε per user × video). */
  utility(user: SimUser, categoryIndex: number, features: ArrayLike<number>, rng: Rng): number {
    const c = this.categories[categoryIndex];
    let u = 0;
    for (let d = 0; d < features.length; d++) u += (c.taste[d] + user.offset[d]) * features[d];
    return u + this.options.noise * rng.normal();
  }

  /**
   * What one user does with a request's candidates, shown in slot order: an impression of each; a play, watch time
   * and completion that grow with utility; likes, shares and exports above thresholds; regenerate, discard and
   * dislike below; sometimes a 1–5 rating; then one `choose` among the candidates, by a softmax over utilities with
   * a bonus for the first slot (position bias). Timestamps are in the past, `endMs` being the last.
   */
  react(user: SimUser, categoryIndex: number, requestId: string, candidates: Candidate[], rng: Rng, endMs: number): SimEvent[] {
    const events: SimEvent[] = [];
    const sessionId = `${user.id}:${requestId}`;
    let t = endMs - 60_000;
    const at = () => new Date((t += 250)).toISOString();
    const push = (type: string, c: Candidate, extra: Partial<SimEvent> = {}) => events.push({
      eventId: `${c.videoId}:${user.id}:${type}`, type, videoId: c.videoId, userId: user.id, requestId, sessionId, occurredAt: at(), ...extra,
    });
    const logits: number[] = [];
    candidates.forEach((c, slot) => {
      const u = this.utility(user, categoryIndex, c.features, rng);
      logits.push(this.options.choiceSharpness * u + (slot === 0 ? this.options.positionBias : 0));
      push('impression', c);
      if (rng.bernoulli(sigmoid(1.5 + u))) {
        push('play', c);
        const ratio = Math.min(1, Math.max(0.02, sigmoid(1.2 * u + 0.3 * rng.normal())));
        push('progress', c, { watchMs: Math.round(ratio * c.durationMs), durationMs: c.durationMs });
        if (ratio > 0.92) push('complete', c, { durationMs: c.durationMs });
      }
      if (rng.bernoulli(sigmoid(2 * (u - 1.2)))) push('like', c);
      if (rng.bernoulli(sigmoid(2 * (u - 1.8)))) push('export', c);
      if (rng.bernoulli(sigmoid(2 * (u - 2.2)))) push('share', c);
      if (rng.bernoulli(sigmoid(2 * (-u - 0.6)))) push('regenerate', c);
      if (rng.bernoulli(sigmoid(2 * (-u - 1.4)))) push('discard', c);
      if (rng.bernoulli(sigmoid(2 * (-u - 2.2)))) push('dislike', c);
      if (rng.bernoulli(0.15)) push('rate', c, { rating: Math.min(5, Math.max(1, Math.round(3 + u))) });
    });
    const top = Math.max(...logits);
    const weights = logits.map((l) => Math.exp(l - top));
    let draw = rng.next() * weights.reduce((a, b) => a + b, 0);
    let chosen = 0;
    while (chosen < weights.length - 1 && (draw -= weights[chosen]) > 0) chosen++;
    push('choose', candidates[chosen]);
    return events;
  }
}

export interface GeneratorOptions {
  /** σ: spread of the candidates around θ_c (the policy's exploration). */
  sigma: number;
  /** R: ‖θ_c‖ ≤ R after every update (a trust region; it keeps the optimum finite). */
  normCap: number;
  /** η: learning rate of the preference update. */
  learningRate: number;
}

export const DEFAULT_GENERATOR: GeneratorOptions = { sigma: 0.6, normCap: 1, learningRate: 0.8 };

/** A preference pair in feature space, as the generator's trainer sees it (features from its own records). */
export interface FeaturePair {
  category: number;
  chosen: ArrayLike<number>;
  rejected: ArrayLike<number>;
  weight: number;
}

export interface UpdateStats {
  pairs: number;
  perCategory: number[];
  /** ‖Δθ_c‖ averaged over the categories. */
  step: number;
}

/**
 * The generator: a Gaussian policy x ~ N(θ_c, σ²I) per category. Its update is one DPO step taken at the reference
 * policy: for a Gaussian, ∇θ[log π(x_chosen) − log π(x_rejected)] = (x_chosen − x_rejected)/σ², and at the reference
 * point every pair's DPO sigmoid is ½, so the step is θ_c ← Π_R(θ_c + η·Σ w·(x_chosen − x_rejected)/(σ²·Σ w)),
 * Π_R the projection onto ‖θ‖ ≤ R.
 */
export class DemoGenerator {
  constructor(readonly options: GeneratorOptions, readonly theta: Float64Array[]) {}

  /** Starts every category far from the optimum: a seeded random direction at the norm cap. */
  static initial(world: DemoWorld, options: GeneratorOptions, seed: number): DemoGenerator {
    const rng = Rng.of(seed, 'generator-init');
    return new DemoGenerator(options, world.categories.map(() => randomDirection(rng, world.options.featureDim, options.normCap)));
  }

  clone(): DemoGenerator {
    return new DemoGenerator(this.options, this.theta.map((t) => Float64Array.from(t)));
  }

  sample(category: number, rng: Rng): number[] {
    return Array.from(this.theta[category], (m) => round6(m + this.options.sigma * rng.normal()));
  }

  /** Returns the next version's generator (this one is unchanged). */
  update(pairs: Iterable<FeaturePair>): { next: DemoGenerator; stats: UpdateStats } {
    const dim = this.theta[0].length;
    const sums = this.theta.map(() => new Float64Array(dim));
    const weights = this.theta.map(() => 0);
    const counts = this.theta.map(() => 0);
    for (const p of pairs) {
      if (!(p.weight > 0)) continue;
      for (let d = 0; d < dim; d++) sums[p.category][d] += p.weight * (p.chosen[d] - p.rejected[d]);
      weights[p.category] += p.weight;
      counts[p.category]++;
    }
    const { sigma, normCap, learningRate } = this.options;
    let step = 0;
    const theta = this.theta.map((t, c) => {
      if (weights[c] === 0) return Float64Array.from(t);
      const moved = t.map((x, d) => x + (learningRate * sums[c][d]) / (sigma * sigma * weights[c]));
      const length = norm(moved);
      const next = length > normCap ? moved.map((x) => (x * normCap) / length) : moved;
      step += norm(next.map((x, d) => x - t[d])) / this.theta.length;
      return next;
    });
    return { next: new DemoGenerator(this.options, theta), stats: { pairs: counts.reduce((a, b) => a + b, 0), perCategory: counts, step } };
  }
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
