/** The app's view of `@mollifier/drainer`'s `Drainer`. */
export interface AppDrainer {
  start(): void;
  stop(options?: { timeoutMs?: number }): Promise<void>;
}
