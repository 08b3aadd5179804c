// @contrast/localrun: the local runtime behind `contrast demo`.
export const LOCALRUN_PACKAGE = "@contrast/localrun";
