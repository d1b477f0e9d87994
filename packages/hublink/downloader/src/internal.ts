/** Key of the members `toFile` needs from a Download; not part of the public API. */
export const internals = Symbol("download internals");
