/**
 * `target` with some of its methods replaced: every other property is the target's own, its
 * methods bound to it. For decorating a Source or an ObjectStore (stop signal, progress) without
 * a class per decoration.
 */
export function withMethods<T extends object>(target: T, methods: Partial<T>): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (Object.prototype.hasOwnProperty.call(methods, prop)) return methods[prop as keyof T];
      const v = Reflect.get(t, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}
