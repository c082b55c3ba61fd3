# Two commands on a fresh clone: `make test` and `make demo`. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
# The MQTT client of the firmware before gate.mqtt, for the benches that compare against such a
# commit (bench/footprint.py's extract): mqtt_async.py from PyPI's micropython-mqtt, fetched by name
# through the index pip is configured with (tools/fetch_sdist.py), pinned by its hash, with
# bench/mqtt_async.patch applied. Boards no longer get it.
EARLIER_LIB := bench/results/lib
MQTT_ASYNC := $(EARLIER_LIB)/mqtt_async.py
MQTT_ASYNC_VERSION := 0.7b4
MQTT_ASYNC_SHA256 := 254a0af13d37cb92372538b6ded44c5f26e2e77c0d8b9b4e2d73c4f26f43e042

.PHONY: setup test demo bench wheel clean

setup: $(READY)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(READY): requirements.txt constraints.txt pyproject.toml | $(BIN)/python
	command -v chromium >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)  # the monitor's browser tests
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(READY)

$(MQTT_ASYNC): bench/mqtt_async.patch tools/fetch_sdist.py | $(BIN)/python
	mkdir -p $(EARLIER_LIB)
	$(BIN)/python tools/fetch_sdist.py micropython-mqtt==$(MQTT_ASYNC_VERSION) \
		--sha256 $(MQTT_ASYNC_SHA256) -o $(EARLIER_LIB)/micropython-mqtt.tar.gz
	tar -xzf $(EARLIER_LIB)/micropython-mqtt.tar.gz -O micropython-mqtt-$(MQTT_ASYNC_VERSION)/mqtt_async.py > $@.tmp
	patch --quiet $@.tmp bench/mqtt_async.patch
	mv $@.tmp $@
	rm $(EARLIER_LIB)/micropython-mqtt.tar.gz

test: $(READY)
	$(BIN)/pytest -n 4 --dist loadfile --deselect tests/monitor/test_monitor_page.py  # most tests wait on virtual boards: four workers on 2 cores; each file on one
	$(BIN)/pytest tests/monitor/test_monitor_page.py  # its live-page timings, alone on the machine

demo: $(READY)
	@PATH="$(CURDIR)/$(BIN):$$PATH" sh tools/demo.sh
	@$(BIN)/python tools/demo.py

# Every bench runs, one that misses its bar (exit status 1) or fails too; the misses are listed at the end.
MISSED := bench/results/missed.txt
bench: $(READY) $(MQTT_ASYNC)
	@rm -f $(MISSED); \
	for run in accuracy classify_cost scan_path export ingest ingest_mqtt purge migrate uplink_scan \
	    'uplink_scan --module wroom-32' air_rate footprint uplink_heap wifi_gate trace trace_duplicates; do \
	  set -- $$run; script=bench/$$1.py; shift; echo "$(BIN)/python $$script $$*"; \
	  $(BIN)/python $$script "$$@" || echo "$$script $$*" >> $(MISSED); \
	done; \
	if [ -s $(MISSED) ]; then echo 'benches that missed a bar or failed:'; cat $(MISSED); exit 1; fi

# dist/bzgate-*.whl: the host tools with the firmware and its board libraries, for pip or pipx
wheel: $(READY)
	rm -rf build  # setuptools would ship what an earlier build left there
	$(BIN)/python -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation -w dist .

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis bench/results $(BOARD_LIB) dist build
