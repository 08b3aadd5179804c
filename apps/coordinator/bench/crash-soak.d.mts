export declare function crashSoak(options?: {
  trials?: number;
  log?: (line: string) => void;
  random?: () => number;
}): Promise<{
  trials: number;
  acknowledged: number;
  committedUnacknowledged: number;
  lostInFlight: number;
  manifests: number;
  windowMs: number;
}>;
