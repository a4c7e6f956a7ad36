// The converters' refusal: a checkpoint whose tensors do not match what its config.json says,
// or that uses something QKViz does not convert. The message names the tensor or the setting.
export class ConversionError extends Error {}
