"""Make the compact copy of reference fixtures carried in the repository (tests/fixtures/<set>).

Usage:
    python scripts/compact_fixtures.py ../shared/fixtures/nvidia-vid2vid tests/fixtures/nvidia-vid2vid \
        --cases g_city_s3_d2 g_city_s1_d2_noflow g_face_s1_d3 g_pose_s2_d2_nofirst p2phd_global_d3 d_temporal_2 \
        e_instance_encoder

Each case keeps its weights byte for byte; its tensors are narrowed without changing a value and
generator cases keep their first ``--windows`` generated frames (see vid2vid/reference_fixtures.py).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from vid2vid.reference_fixtures import compact_fixture_case, fixture_cases


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("src", type=Path, help="full fixture set folder")
    parser.add_argument("dst", type=Path, help="compact copy to (re)write")
    parser.add_argument("--cases", nargs="*", default=None, help="case folders to keep (default: all)")
    parser.add_argument("--windows", type=int, default=3, help="generated windows kept per generator case")
    args = parser.parse_args()
    cases = [c for c in fixture_cases(args.src) if args.cases is None or c.name in args.cases]
    unknown = sorted(set(args.cases or []) - {c.name for c in cases})
    if unknown:
        parser.error(f"no such cases in {args.src}: {unknown}")
    args.dst.mkdir(parents=True, exist_ok=True)
    for case in cases:
        target = args.dst / case.name
        if target.exists():
            shutil.rmtree(target)
        compact_fixture_case(case.folder, target, windows=args.windows)
        size = sum(p.stat().st_size for p in target.iterdir())
        print(f"{case.name}: {size / 1e6:.2f} MB")
    readme = args.src / "README.md"
    note = (
        f"<!-- Compact copy made by scripts/compact_fixtures.py from the full set {args.src.name}: "
        f"cases {', '.join(c.name for c in cases)}; generator cases keep their first {args.windows} "
        "windows (see each config.json's compacted_from); weights byte for byte; tensors narrowed only "
        "where no value changes. The full set is checked too wherever it is present. -->\n\n"
    )
    original = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    (args.dst / "README.md").write_text(note + original, encoding="utf-8")


if __name__ == "__main__":
    main()
