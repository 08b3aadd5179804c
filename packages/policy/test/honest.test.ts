import { describe, expect, it } from "vitest";
import {
  AgentPolicy,
  applyJsonPatch,
  DEFAULT_SETTINGS,
  generatePolicies,
  honestRequestsForYaml,
} from "../src/index.js";
import { fixtureImages } from "./fixtures/images.js";

const DIGEST = "sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";
const POD = `
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  runtimeClassName: contrast-cc
  securityContext:
    runAsUser: 1000
    runAsGroup: 1000
  volumes:
    - name: config
      configMap:
        name: web-config
    - name: scratch
      emptyDir: {}
  containers:
    - name: app
      image: registry.k8s.io/pause:3.6@${DIGEST}
      command: ["/pause", "--serve"]
      env:
        - name: MODE
          value: production
        - name: POD_IP
          valueFrom:
            fieldRef:
              fieldPath: status.podIP
      livenessProbe:
        exec:
          command: ["/pause", "--check"]
      volumeMounts:
        - name: config
          mountPath: /etc/web
          readOnly: true
        - name: scratch
          mountPath: /scratch
`;

describe.each([
  ["guest pull", true],
  ["host-pulled layers", false],
])("honest requests (%s)", (_mode, guestPull) => {
  it("are allowed by the generated policy", async () => {
    const settings = applyJsonPatch(DEFAULT_SETTINGS, [
      { op: "replace", path: "/cluster_config/guest_pull", value: guestPull },
    ]);
    const images = fixtureImages();
    const generated = await generatePolicies(POD, { images, settings });
    const [w] = generated.workloads;
    const [built] = await honestRequestsForYaml(POD, { images, settings });
    const agent = new AgentPolicy(w?.policy ?? "");
    const decisions = agent.decideAll(built?.stream.requests ?? []);
    const denied = decisions
      .filter((d) => !d.allowed)
      .map((d) => ({ r: d.request, why: d.reasons?.map((x) => x.message) }));
    expect(denied).toEqual([]);
    expect(decisions.map((d) => d.request)).toEqual([
      "CreateSandboxRequest",
      "CreateContainerRequest",
      "StartContainerRequest",
      "CreateContainerRequest",
      "StartContainerRequest",
      "ExecProcessRequest",
    ]);
  });
});
