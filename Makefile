# Every target calls a script in scripts/; see the README.
.PHONY: demo test check docs package bench format clean

demo:
	./scripts/demo.sh

test:
	./scripts/test.sh

check:
	./scripts/check.sh

docs:
	./scripts/docs.sh

package:
	./scripts/package.sh

bench:
	./scripts/bench.sh

format:
	./scripts/format.sh

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache build dist site .servers
