"""benchmarks/_hlo.py's CPU description in every benchmark's header: hosts
that share a model name are told apart by family, model and AVX-512."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "benchmarks"))
from _hlo import cpu_model  # noqa: E402

BLOCK = "processor\t: {i}\nvendor_id\t: AuthenticAMD\ncpu family\t: {family}\nmodel\t\t: {model}\n" \
        "model name\t: AMD EPYC\nflags\t\t: fpu sse2 avx2 {extra}\n"


def test_cpu_model_names_family_model_and_avx512_of_the_first_processor(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text(BLOCK.format(i=0, family=26, model=2, extra="avx512f avx512dq") + "\n"
                    + BLOCK.format(i=1, family=25, model=1, extra=""))
    assert cpu_model(str(info)) == "AMD EPYC (family 26, model 2, AVX-512)"
    info.write_text(BLOCK.format(i=0, family=25, model=1, extra="avx512_bf16"))
    assert cpu_model(str(info)) == "AMD EPYC (family 25, model 1)"


def test_cpu_model_without_cpuinfo_falls_back_to_the_platform(tmp_path):
    assert "family" not in cpu_model(str(tmp_path / "absent"))
