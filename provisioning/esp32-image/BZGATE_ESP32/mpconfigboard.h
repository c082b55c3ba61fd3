// bzgate's ESP32 image: the firmware's .mpy files run in place from a ROMFS partition, so their
// code, strings and names stay out of the Python heap (docs/esp32-notes.md, note 40).
#define MICROPY_HW_BOARD_NAME "bzgate ESP32 (ROMFS)"
#define MICROPY_HW_MCU_NAME "ESP32"

// vfs.VfsRom and vfs.rom_ioctl (ports/esp32/esp32_partition.c): /rom is mounted at boot and
// /rom, /rom/lib join sys.path.
#define MICROPY_VFS_ROM (1)
