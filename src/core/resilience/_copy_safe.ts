/**
 * Getters that answer `undefined`, instead of throwing, when read on a copy of
 * an instance: test frameworks print and compare objects through copies made
 * from the prototype, which lack the instance's private fields.
 *
 * @module
 */

/**
 * Wraps every getter of `proto` (string keys): on an object `isInstance`
 * refuses, it returns `undefined` instead of calling the getter.
 *
 * @param proto A class's prototype.
 * @param isInstance True for a real instance (a private brand check: `#field in value`).
 */
export function copySafeGetters(proto: object, isInstance: (value: object) => boolean): void {
  for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
    const get = descriptor.get;
    if (get === undefined) continue;
    Object.defineProperty(proto, name, {
      ...descriptor,
      get(this: object): unknown {
        return isInstance(this) ? get.call(this) : undefined;
      },
    });
  }
}
