/**
 * `answer`, or a rejection with `onLate()`'s error once `ms` have passed without it. The call
 * behind `answer` is not cancelled (Redis has no way to take a command back): `onLate` is where a
 * caller records that it is still out, and `answer` settles whenever it does.
 */
export function answeredWithin<T>(answer: Promise<T>, ms: number, onLate: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(onLate()), ms);
    answer.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
