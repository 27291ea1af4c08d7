// Types of fraud-traffic.mjs for the tests that import it.
export interface SeededRandom {
  next(): number;
  below(n: number): number;
  exponential(mean: number): number;
  logNormal(median: number, sigma: number): number;
  digits(count: number): string;
}
export declare function seededRandom(seed: number): SeededRandom;

export interface RealUserCountry {
  country: string;
  share: number;
  conversion: number;
}
export declare const REAL_USER_COUNTRIES: RealUserCountry[];
export declare const CONCENTRATED_RANGE: string;
export declare const THIN_RANGE: string;
export declare function blockOf(number: string): string;
export declare function realUserCountry(random: SeededRandom): RealUserCountry;

export interface NumberSource {
  realUser(country: string): string;
  concentrated(): string;
  thin(): string;
}
export declare function numberSource(random: SeededRandom): NumberSource;
