// The point shader shared by every head: colour and highlight state come from a small
// per-point texture (the same for all heads, since point i is token i everywhere), the
// norm ramp from a per-vertex value. An image run's patch points can be drawn as their image
// patch instead: a square sprite sampling a texture atlas of the run's pictures, framed in the
// query/key colour (the patch is found from the point's index alone: token row, image, patch
// row and column). The picking variant draws each point's index + 1 as a colour so the point
// under the cursor can be read back from one pixel.
import * as THREE from 'three';
import { type Rgb, hex } from '@/lib/views/colour';

/** Highlight states, stored in the state texture's alpha channel. */
export const STATE = { faded: 0, normal: 85, highlighted: 170, match: 255 } as const;

/** Width of the per-point state texture; its height follows from the point count. */
export const STATE_TEXTURE_WIDTH = 1024;
export const BACKGROUND = '#11141a';

const vertexShader = /* glsl */ `
  attribute float pointIndex;
  attribute float ready;
  attribute float normValue;
  uniform sampler2D pointState;
  uniform int stateWidth;
  uniform float tokenCount;
  uniform float pointSize;
  uniform float sizeByNorm;
  uniform float useNorm;
  uniform vec3 qLight;
  uniform vec3 qDark;
  uniform vec3 kLight;
  uniform vec3 kDark;
  uniform vec3 background;
  uniform float useThumbs;
  uniform float thumbSize;
  // tokens per image, special tokens, patch rows, patch columns
  uniform vec4 thumbLayout;
  // an image's cell in the atlas (w, h pixels), images per atlas row, the atlas's width and height
  uniform vec3 thumbCell;
  uniform vec2 thumbAtlas;
  varying vec3 vColour;
  varying float vReady;
  varying float vId;
  varying vec4 vThumb;
  varying float vFaded;
  void main() {
    int p = int(pointIndex + 0.5);
    vThumb = vec4(0.0, 0.0, -1.0, 0.0);
    vec4 st = texelFetch(pointState, ivec2(p % stateWidth, p / stateWidth), 0);
    bool isKey = pointIndex >= tokenCount - 0.5;
    vec3 colour = useNorm > 0.5 ? (isKey ? mix(kLight, kDark, normValue) : mix(qLight, qDark, normValue)) : st.rgb;
    float state = st.a;
    float size = pointSize * (state > 0.9 ? 2.2 : state > 0.5 ? 1.5 : state < 0.1 ? 0.8 : 1.0);
    if (sizeByNorm > 0.5) size *= mix(0.4, 2.2, normValue);
    vColour = state < 0.1 ? mix(background, colour, 0.22) : colour;
    vFaded = state < 0.1 ? 1.0 : 0.0;
    if (useThumbs > 0.5) {
      float row = isKey ? pointIndex - tokenCount : pointIndex;
      float image = floor((row + 0.5) / thumbLayout.x);
      float t = row - image * thumbLayout.x - thumbLayout.y;
      if (t > -0.5) {
        float pr = floor((t + 0.5) / thumbLayout.w);
        float pc = t - pr * thumbLayout.w;
        float cx = mod(image, thumbCell.z);
        float cy = floor((image + 0.5) / thumbCell.z);
        vec2 tile = vec2(thumbCell.x / thumbLayout.w, thumbCell.y / thumbLayout.z);
        vThumb = vec4((vec2(cx * thumbCell.x, cy * thumbCell.y) + vec2(pc, pr) * tile) / thumbAtlas, tile / thumbAtlas);
        size = max(size, thumbSize * (state > 0.9 ? 1.6 : 1.0));
      }
    }
    vReady = ready;
    vId = pointIndex + 1.0;
    gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
    // Highlighted points are drawn in front of faded ones at the same depth.
    if (state > 0.5) gl_Position.z -= 0.002 * gl_Position.w;
    gl_PointSize = max(size, 1.0);
  }
`;

const fragmentShader = /* glsl */ `
  uniform sampler2D thumbs;
  uniform vec3 background;
  varying vec3 vColour;
  varying float vReady;
  varying float vId;
  varying vec4 vThumb;
  varying float vFaded;
  void main() {
    if (vReady < 0.5) discard;
    vec2 c = gl_PointCoord - 0.5;
    bool thumb = vThumb.z > 0.0;
    if (!thumb && dot(c, c) > 0.25) discard;
#ifdef PICKING
    float id = vId;
    gl_FragColor = vec4(mod(id, 256.0), mod(floor(id / 256.0), 256.0), floor(id / 65536.0), 255.0) / 255.0;
#else
    if (thumb) {
      vec3 picture = texture2D(thumbs, vThumb.xy + gl_PointCoord * vThumb.zw).rgb;
      // A frame in the query or key colour says which the patch is.
      vec2 e = min(gl_PointCoord, 1.0 - gl_PointCoord);
      vec3 colour = min(e.x, e.y) < 0.14 ? vColour : picture;
      gl_FragColor = vec4(vFaded > 0.5 ? mix(background, colour, 0.3) : colour, 1.0);
    } else {
      gl_FragColor = vec4(vColour, 1.0);
    }
#endif
  }
`;

export type PointUniforms = ReturnType<typeof pointUniforms>;

export function pointUniforms(texture: THREE.DataTexture, tokenCount: number) {
  const noThumbs = new THREE.DataTexture(new Uint8Array(4), 1, 1, THREE.RGBAFormat, THREE.UnsignedByteType);
  noThumbs.needsUpdate = true;
  return {
    thumbs: { value: noThumbs as THREE.Texture },
    useThumbs: { value: 0 },
    thumbSize: { value: 16 },
    thumbLayout: { value: new THREE.Vector4(1, 0, 1, 1) },
    thumbCell: { value: new THREE.Vector3(1, 1, 1) },
    thumbAtlas: { value: new THREE.Vector2(1, 1) },
    pointState: { value: texture },
    stateWidth: { value: STATE_TEXTURE_WIDTH },
    tokenCount: { value: tokenCount },
    pointSize: { value: 2 },
    sizeByNorm: { value: 0 },
    useNorm: { value: 0 },
    qLight: { value: new THREE.Color() },
    qDark: { value: new THREE.Color() },
    kLight: { value: new THREE.Color() },
    kDark: { value: new THREE.Color() },
    // The shader mixes raw sRGB bytes (no colour management), so the background goes in as its bytes too.
    background: { value: new THREE.Color().setRGB(...(hex(BACKGROUND).map((v) => v / 255) as Rgb)) },
  };
}

/** The visible material and the picking one, sharing one set of uniforms. */
export function pointMaterials(uniforms: PointUniforms): { view: THREE.ShaderMaterial; pick: THREE.ShaderMaterial } {
  // three compiles ShaderMaterials as GLSL ES 3.0 on WebGL2, so texelFetch is available.
  const common = { vertexShader, fragmentShader, uniforms } as const;
  return { view: new THREE.ShaderMaterial(common), pick: new THREE.ShaderMaterial({ ...common, defines: { PICKING: 1 } }) };
}

/** The RGBA8 texture holding each point's colour (rgb) and highlight state (alpha). */
export function pointStateTexture(points: number): THREE.DataTexture {
  const height = Math.max(1, Math.ceil(points / STATE_TEXTURE_WIDTH));
  const texture = new THREE.DataTexture(
    new Uint8Array(STATE_TEXTURE_WIDTH * height * 4),
    STATE_TEXTURE_WIDTH,
    height,
    THREE.RGBAFormat,
    THREE.UnsignedByteType,
  );
  texture.minFilter = THREE.NearestFilter;
  texture.magFilter = THREE.NearestFilter;
  texture.generateMipmaps = false;
  return texture;
}

export const decodePickedId = (r: number, g: number, b: number) => r + g * 256 + b * 65536 - 1;
