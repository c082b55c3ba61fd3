# bzgate's ESP32 image: MicroPython's generic ESP32 board with a ROMFS partition (README.md).
include(boards/mpconfigboard_esp32_common.cmake)

list(APPEND SDKCONFIG_DEFAULTS
    ${MICROPY_BOARD_DIR}/sdkconfig.board)
