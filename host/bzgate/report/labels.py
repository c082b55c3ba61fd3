"""The report's words and number styles in Vietnamese (the default) and English."""

LANGS = ("vi", "en")

LABELS = {
    "vi": {
        "title": "BÁO CÁO KIỂM SOÁT BLUEZONE TẠI CỔNG",
        "sheet": "Báo cáo",
        "period": "Thời gian",
        "filters": "Phạm vi",
        "made": "Lập lúc",
        "no": "STT",
        "unit": {"day": "Ngày", "site": "Địa điểm", "gate": "Cổng"},
        "triggers": "Lượt người qua cổng",
        "allowed": "Cho phép",
        "denied": "Từ chối",
        "no_app": "Không có ứng dụng",
        "compliance": "Tỷ lệ tuân thủ",
        "devices": "Thiết bị Bluezone (không trùng)",
        "android": "Android",
        "ios": "iOS",
        "busiest": "Giờ cao điểm",
        "total": "Tổng cộng",
        "no_site": "(chưa đặt tên)",
        "chart_title": "Tỷ lệ tuân thủ theo ngày",
        "chart_y": "Tỷ lệ tuân thủ (%)",
        "notes": "Ghi chú",
        "note_compliance": "Tỷ lệ tuân thủ = lượt cho phép / lượt người qua cổng.",
        "note_devices": "Thiết bị không trùng: số mã Bluezone khác nhau đã ghi nhận (mã của mỗi "
                        "điện thoại đổi sau 15 phút).",
        "note_time": "Giờ Việt Nam (UTC+7).",
        "note_unplaced": "Bản ghi lúc cổng chưa đặt đồng hồ, không được tính: {n}.",
        "date": "%d/%m/%Y",
        "datetime": "%H:%M %d/%m/%Y",
        "thousands": ".",
        "decimal": ",",
    },
    "en": {
        "title": "BLUEZONE GATE REPORT",
        "sheet": "Report",
        "period": "Period",
        "filters": "Scope",
        "made": "Made",
        "no": "No.",
        "unit": {"day": "Day", "site": "Site", "gate": "Gate"},
        "triggers": "People at the gate",
        "allowed": "Allowed",
        "denied": "Denied",
        "no_app": "No app",
        "compliance": "Compliance",
        "devices": "Unique Bluezone devices",
        "android": "Android",
        "ios": "iOS",
        "busiest": "Busiest hour",
        "total": "Total",
        "no_site": "(unnamed)",
        "chart_title": "Compliance by day",
        "chart_y": "Compliance (%)",
        "notes": "Notes",
        "note_compliance": "Compliance = allowed / people at the gate.",
        "note_devices": "Unique devices: distinct Bluezone IDs recorded (each phone's ID changes "
                        "every 15 minutes).",
        "note_time": "Vietnam time (UTC+7).",
        "note_unplaced": "Records made before the gate's clock was set, not counted: {n}.",
        "date": "%Y-%m-%d",
        "datetime": "%Y-%m-%d %H:%M",
        "thousands": ",",
        "decimal": ".",
    },
}


def integer(n: int, lang: str) -> str:
    return f"{n:,}".replace(",", LABELS[lang]["thousands"])


def percent(rate: float | None, lang: str) -> str:
    """0.875 -> '87,5 %' (vi) or '87.5 %' (en); no rate (nobody at the gate) -> '–'."""
    if rate is None:
        return "–"
    return f"{rate * 100:.1f}".replace(".", LABELS[lang]["decimal"]) + " %"


def hour_span(hour: int | None) -> str:
    return "–" if hour is None else f"{hour:02d}:00–{(hour + 1) % 24:02d}:00"
