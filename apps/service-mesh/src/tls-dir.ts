import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadMeshCredentials, MESH_TLS_FILES, type MeshCredentials, MeshProxyError } from "@contrast/mesh-proxy";

/** Reads and checks certChain.pem, key.pem and mesh-ca.pem from the initializer's directory. */
export async function readMeshCredentials(dir: string): Promise<MeshCredentials> {
  const read = async (name: string) => {
    const path = join(dir, name);
    try {
      return await readFile(path);
    } catch (cause) {
      throw new MeshProxyError("PROXY_CREDENTIALS_INVALID", `cannot read ${path}`, { cause, details: { path } });
    }
  };
  const [certChain, key, meshCa] = await Promise.all([
    read(MESH_TLS_FILES.certChain),
    read(MESH_TLS_FILES.key),
    read(MESH_TLS_FILES.meshCa),
  ]);
  return loadMeshCredentials({ certChain, key, meshCa });
}
