# Two commands on a fresh clone: `make test` and `make demo`. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
# The gate's MQTT client: mqtt_async.py from PyPI's micropython-mqtt 0.7b4, pinned by its hash,
# with provisioning/mqtt_async.patch applied; provisioning/build.py deploys it to /lib.
FIRMWARE_LIB := $(VENV)/share/bzgate-firmware-lib
MQTT_ASYNC := $(FIRMWARE_LIB)/mqtt_async.py
MQTT_ASYNC_URL := https://files.pythonhosted.org/packages/a6/89/3beefb25462bf4af2d579e407f5aba37b4865017145ff0704303f597414a/micropython-mqtt-0.7b4.tar.gz
MQTT_ASYNC_SHA256 := 254a0af13d37cb92372538b6ded44c5f26e2e77c0d8b9b4e2d73c4f26f43e042

.PHONY: setup test demo bench clean

setup: $(READY)

$(READY): requirements.txt constraints.txt pyproject.toml | $(MQTT_ASYNC)
	command -v chromium >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)  # the monitor's browser tests
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(READY)

$(MQTT_ASYNC): provisioning/mqtt_async.patch
	mkdir -p $(FIRMWARE_LIB)
	curl -fsSL -o $(FIRMWARE_LIB)/micropython-mqtt.tar.gz $(MQTT_ASYNC_URL)
	echo "$(MQTT_ASYNC_SHA256)  $(FIRMWARE_LIB)/micropython-mqtt.tar.gz" | sha256sum -c --quiet
	tar -xzf $(FIRMWARE_LIB)/micropython-mqtt.tar.gz -O micropython-mqtt-0.7b4/mqtt_async.py > $@.tmp
	patch --quiet $@.tmp provisioning/mqtt_async.patch
	mv $@.tmp $@
	rm $(FIRMWARE_LIB)/micropython-mqtt.tar.gz

test: $(READY)
	$(BIN)/pytest -n 2 --dist loadfile --deselect tests/monitor/test_monitor_page.py  # two workers; each file on one
	$(BIN)/pytest tests/monitor/test_monitor_page.py  # its live-page timings, alone on the machine

demo: $(READY)
	@PATH="$(CURDIR)/$(BIN):$$PATH" sh tools/demo.sh
	@$(BIN)/python tools/demo.py

bench: $(READY)
	$(BIN)/python bench/accuracy.py
	$(BIN)/python bench/classify_cost.py
	$(BIN)/python bench/scan_path.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/ingest_mqtt.py
	$(BIN)/python bench/uplink_scan.py
	$(BIN)/python bench/trace.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis bench/results
