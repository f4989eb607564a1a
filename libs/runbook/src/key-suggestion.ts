/** Edit distance (insertions, deletions, substitutions), two rows at a time. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The known key a typo most likely meant, or undefined when none is close: same letters in
 * another case, or within a few edits (a third of the key's length, at most 3). A tie between
 * two candidates suggests nothing rather than guessing.
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const folded = known.filter((candidate) => candidate.toLowerCase() === key.toLowerCase());
  if (folded.length === 1) return folded[0];
  const limit = Math.min(3, Math.max(1, Math.floor(key.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  let tie = false;
  for (const candidate of known) {
    const distance = editDistance(key, candidate);
    if (distance < bestDistance) {
      [best, bestDistance, tie] = [candidate, distance, false];
    } else if (distance === bestDistance) {
      tie = true;
    }
  }
  return bestDistance <= limit && !tie ? best : undefined;
}

export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const suggestion = closestKey(key, known);
  if (suggestion !== undefined)
    return `unknown key ${JSON.stringify(key)}: did you mean ${JSON.stringify(suggestion)}?`;
  return `unknown key ${JSON.stringify(key)}: expected one of ${known.join(', ')}`;
}
