// Links the cameras of several views (compare mode): whichever view the person moves
// publishes its camera, the others copy it on their next frame. The last pose is also what
// a shared link records.

export type CameraPose = number[]; // position x y z, then orbit target x y z

const EPSILON = 1e-5;
const same = (a: CameraPose | null, b: CameraPose) => !!a && a.every((v, i) => Math.abs(v - b[i]) < EPSILON);

export class CameraLink {
  pose: CameraPose | null = null;
  version = 0;
  source = -1;
  private views = new Map<number, () => void>();
  private nextId = 0;

  join(invalidate: () => void): number {
    const id = this.nextId++;
    this.views.set(id, invalidate);
    return id;
  }

  leave(id: number): void {
    this.views.delete(id);
  }

  publish(id: number, pose: CameraPose): void {
    if (same(this.pose, pose)) return;
    this.pose = pose.slice();
    this.version++;
    this.source = id;
    for (const [other, invalidate] of this.views) if (other !== id) invalidate();
  }
}
