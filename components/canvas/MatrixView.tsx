'use client';
// Every head of the model in one 3D scene: rows are layers, columns heads, each cell that
// head's joint query/key layout. One point geometry holds all heads (a per-vertex head
// index and kind), drawn by one shader material: a draw call for the whole matrix. A head's
// vertices are uploaded once, when its layout arrives (a ranged buffer update), and the
// canvas renders on demand.
import { Canvas, useFrame, useThree } from '@react-three/fiber';
import { Html, OrbitControls } from '@react-three/drei';
import { useEffect, useMemo, useRef } from 'react';
import * as THREE from 'three';

/** Distance between cell centres; a head's layout fits in the unit ball. */
export const CELL_SPACING = 2.4;

const vertexShader = /* glsl */ `
  attribute float kind;
  attribute float ready;
  uniform float pointSize;
  varying float vKind;
  varying float vReady;
  void main() {
    vKind = kind;
    vReady = ready;
    vec4 mv = modelViewMatrix * vec4(position, 1.0);
    gl_Position = projectionMatrix * mv;
    gl_PointSize = pointSize;
  }
`;

const fragmentShader = /* glsl */ `
  varying float vKind;
  varying float vReady;
  void main() {
    if (vReady < 0.5) discard;
    vec2 c = gl_PointCoord - 0.5;
    if (dot(c, c) > 0.25) discard;
    vec3 query = vec3(0.373, 0.725, 0.424);  // #5FB96C
    vec3 key = vec3(0.890, 0.216, 0.561);    // #E3378F
    gl_FragColor = vec4(mix(query, key, vKind), 1.0);
  }
`;

export interface MatrixViewProps {
  layers: number;
  heads: number;
  /** Points per head (2N: queries then keys). */
  points: number;
  dims: 2 | 3;
  layout: (layer: number, head: number) => Float32Array | null;
  /** Changes whenever a layout arrives. */
  version: number;
}

function cellCenter(layers: number, heads: number, l: number, h: number): [number, number] {
  return [(h - (heads - 1) / 2) * CELL_SPACING, ((layers - 1) / 2 - l) * CELL_SPACING];
}

function MatrixPoints({ layers, heads, points, dims, layout, version }: MatrixViewProps) {
  const invalidate = useThree((s) => s.invalidate);
  const uploaded = useRef(new Map<number, Float32Array>());
  const geometry = useMemo(() => {
    const g = new THREE.BufferGeometry();
    const total = layers * heads * points;
    const position = new THREE.BufferAttribute(new Float32Array(total * 3), 3);
    position.setUsage(THREE.DynamicDrawUsage);
    const kind = new THREE.BufferAttribute(new Float32Array(total), 1);
    for (let c = 0; c < layers * heads; c++) for (let i = 0; i < points; i++) kind.array[c * points + i] = i < points / 2 ? 0 : 1;
    const ready = new THREE.BufferAttribute(new Float32Array(total), 1);
    ready.setUsage(THREE.DynamicDrawUsage);
    g.setAttribute('position', position);
    g.setAttribute('kind', kind);
    g.setAttribute('ready', ready);
    g.boundingSphere = new THREE.Sphere(new THREE.Vector3(), Math.hypot(heads, layers) * CELL_SPACING);
    return g;
  }, [layers, heads, points]);
  const material = useMemo(
    () => new THREE.ShaderMaterial({ vertexShader, fragmentShader, uniforms: { pointSize: { value: 2.0 } }, depthWrite: true }),
    [],
  );

  useEffect(() => {
    uploaded.current.clear();
    (geometry.getAttribute('ready') as THREE.BufferAttribute).array.fill(0);
    (geometry.getAttribute('ready') as THREE.BufferAttribute).needsUpdate = true;
  }, [geometry, dims]);

  useEffect(() => {
    const position = geometry.getAttribute('position') as THREE.BufferAttribute;
    const ready = geometry.getAttribute('ready') as THREE.BufferAttribute;
    let changed = false;
    for (let l = 0; l < layers; l++) {
      for (let h = 0; h < heads; h++) {
        const cell = l * heads + h;
        const coords = layout(l, h);
        if (!coords || uploaded.current.get(cell) === coords) continue;
        uploaded.current.set(cell, coords);
        const [cx, cy] = cellCenter(layers, heads, l, h);
        const base = cell * points;
        for (let i = 0; i < points; i++) {
          position.array[(base + i) * 3] = cx + coords[i * dims];
          position.array[(base + i) * 3 + 1] = cy + coords[i * dims + 1];
          position.array[(base + i) * 3 + 2] = dims === 3 ? coords[i * dims + 2] : 0;
          ready.array[base + i] = 1;
        }
        // Only this head's range goes to the GPU.
        position.addUpdateRange(base * 3, points * 3);
        ready.addUpdateRange(base, points);
        changed = true;
      }
    }
    if (changed) {
      position.needsUpdate = true;
      ready.needsUpdate = true;
      invalidate();
    }
  }, [version, layout, geometry, layers, heads, points, dims, invalidate]);

  return <points geometry={geometry} material={material} frustumCulled={false} />;
}

/** Writes the renderer's draw calls for the last frame into the page, for tests and curious users. */
function DrawCallProbe({ target }: { target: React.RefObject<HTMLDivElement | null> }) {
  const gl = useThree((s) => s.gl);
  useFrame(() => {
    // useFrame runs before the render; the counts read here are the previous frame's.
    if (target.current) target.current.dataset.drawCalls = String(gl.info.render.calls);
  });
  return null;
}

export function MatrixView(props: MatrixViewProps) {
  const { layers, heads, dims } = props;
  const wrapper = useRef<HTMLDivElement>(null);
  const width = heads * CELL_SPACING;
  return (
    <div ref={wrapper} className="matrix-view" data-testid="matrix-view">
      <Canvas
        frameloop="demand"
        gl={{ preserveDrawingBuffer: true, antialias: false }}
        camera={{ position: [0, 0, width * 0.6], fov: 50, near: 0.1, far: 1000 }}
        dpr={1}
      >
        <color attach="background" args={['#11141a']} />
        <MatrixPoints {...props} />
        {Array.from({ length: layers * heads }, (_, c) => {
          const l = Math.floor(c / heads);
          const h = c % heads;
          const [x, y] = cellCenter(layers, heads, l, h);
          return (
            // Portalled into the wrapper: with the default target, a label mounted before the
            // canvas is attached never appears.
            <Html key={c} position={[x, y - 1.15, 0]} center className="cell-label" portal={wrapper as React.RefObject<HTMLElement>}>
              L{l} H{h}
            </Html>
          );
        })}
        <OrbitControls enableRotate={dims === 3} makeDefault />
        <DrawCallProbe target={wrapper} />
      </Canvas>
    </div>
  );
}
