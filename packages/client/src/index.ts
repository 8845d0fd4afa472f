export { type Api, type ApiOptions, createApi } from "./api.ts";
export type * from "./frames.ts";
export {
  type ConnectionState,
  GroupSocket,
  type GroupSocketOptions,
  groupSocketUrl,
  type StateInfo,
} from "./group-socket.ts";
export type { components, operations, paths } from "./schema.ts";
export type * from "./types.ts";
