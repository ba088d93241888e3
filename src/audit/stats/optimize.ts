/**
 * Nelder-Mead simplex minimization (Nelder & Mead 1965, with the standard
 * coefficients: reflection 1, expansion 2, contraction 1/2, shrink 1/2), the
 * method scipy's generic distribution fit uses. No npm package of it is installed.
 */
export interface NelderMeadOptions {
  /** Initial simplex: start + step[i] along axis i. */
  step: number[];
  maxIterations?: number;
  /** Stop when the simplex's function values and coordinates both spread less than these. */
  functionTolerance?: number;
  parameterTolerance?: number;
}

export interface NelderMeadResult {
  point: number[];
  value: number;
  iterations: number;
  converged: boolean;
}

export function nelderMead(
  objective: (point: number[]) => number,
  start: number[],
  options: NelderMeadOptions,
): NelderMeadResult {
  const dimension = start.length;
  if (options.step.length !== dimension)
    throw new RangeError(`nelderMead: step has ${options.step.length} entries for ${dimension} parameters`);
  const maxIterations = options.maxIterations ?? 400 * dimension;
  const functionTolerance = options.functionTolerance ?? 1e-10;
  const parameterTolerance = options.parameterTolerance ?? 1e-8;
  const evaluate = (point: number[]): number => {
    const value = objective(point);
    return Number.isNaN(value) ? Infinity : value;
  };

  let simplex: { point: number[]; value: number }[] = [{ point: start.slice(), value: evaluate(start) }];
  for (let i = 0; i < dimension; i++) {
    const point = start.slice();
    point[i]! += options.step[i]!;
    simplex.push({ point, value: evaluate(point) });
  }

  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    simplex.sort((left, right) => left.value - right.value);
    const best = simplex[0]!;
    const worst = simplex[dimension]!;
    let spread = 0;
    for (const vertex of simplex)
      for (let i = 0; i < dimension; i++) spread = Math.max(spread, Math.abs(vertex.point[i]! - best.point[i]!));
    if (Math.abs(worst.value - best.value) <= functionTolerance && spread <= parameterTolerance) {
      converged = true;
      break;
    }
    iterations++;

    const centroid = new Array<number>(dimension).fill(0);
    for (let v = 0; v < dimension; v++)
      for (let i = 0; i < dimension; i++) centroid[i]! += simplex[v]!.point[i]! / dimension;
    const along = (t: number): number[] => centroid.map((c, i) => c + t * (worst.point[i]! - c));

    const reflected = along(-1);
    const reflectedValue = evaluate(reflected);
    if (reflectedValue < best.value) {
      const expanded = along(-2);
      const expandedValue = evaluate(expanded);
      simplex[dimension] =
        expandedValue < reflectedValue
          ? { point: expanded, value: expandedValue }
          : { point: reflected, value: reflectedValue };
      continue;
    }
    if (reflectedValue < simplex[dimension - 1]!.value) {
      simplex[dimension] = { point: reflected, value: reflectedValue };
      continue;
    }
    const outside = reflectedValue < worst.value;
    const contracted = along(outside ? -0.5 : 0.5);
    const contractedValue = evaluate(contracted);
    if (contractedValue < (outside ? reflectedValue : worst.value)) {
      simplex[dimension] = { point: contracted, value: contractedValue };
      continue;
    }
    simplex = simplex.map((vertex, index) => {
      if (index === 0) return vertex;
      const point = vertex.point.map((x, i) => best.point[i]! + 0.5 * (x - best.point[i]!));
      return { point, value: evaluate(point) };
    });
  }
  simplex.sort((left, right) => left.value - right.value);
  return { point: simplex[0]!.point, value: simplex[0]!.value, iterations, converged };
}
