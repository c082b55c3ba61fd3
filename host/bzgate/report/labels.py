"""The report's words and number styles in Vietnamese (the default) and English."""

import datetime as dt

LANGS = ("vi", "en")

LABELS = {
    "vi": {
        "title": "BÁO CÁO KIỂM SOÁT BLUEZONE TẠI CỔNG",
        "sheet": "Báo cáo",
        "period": "Thời gian",
        "filters": "Phạm vi",
        "made": "Lập lúc",
        "no": "STT",
        "unit": {"day": "Ngày", "site": "Địa điểm", "gate": "Cổng", "unit": "Đơn vị"},
        "people": "Lượt người qua cổng",
        "allowed": "Cho phép",
        "no_app": "Không có ứng dụng",
        "exempt": "Miễn trừ",
        "exits": "Lượt ra",
        "compliance": "Tỷ lệ tuân thủ",
        "devices": "Thiết bị Bluezone (không trùng)",
        "android": "Android",
        "ios": "iOS",
        "busiest": "Giờ cao điểm",
        "headcount": "Tổng số CCVCNLĐ",
        "smartphones": "Số người có điện thoại thông minh",
        "estimated": "Số người sử dụng Bluezone (ước tính)",
        "rate": "Tỷ lệ cài đặt trên tổng số",
        "smartphone_rate": "Tỷ lệ cài đặt trên số điện thoại thông minh",
        "total": "Tổng cộng",
        "no_site": "(chưa đặt tên)",
        "other": "Khác",
        "chart_title": {"day": "Tỷ lệ tuân thủ theo ngày", "unit": "Tỷ lệ tuân thủ theo đơn vị"},
        "chart_y": "Tỷ lệ tuân thủ (%)",
        "notes": "Ghi chú",
        "note_compliance": "Tỷ lệ tuân thủ = lượt cho phép / (lượt người qua cổng − lượt miễn "
                           "trừ); lượt ra không tính là người qua cổng.",
        "note_no_app": "Không có ứng dụng: cổng không thấy Bluezone trên điện thoại (bị từ chối "
                       "khi cổng kiểm soát, được ghi nhận khi cổng chỉ theo dõi).",
        "note_devices": "Thiết bị không trùng: số mã Bluezone khác nhau đã ghi nhận (mã của mỗi "
                        "điện thoại đổi sau 15 phút).",
        "note_estimate": "Số người sử dụng Bluezone ước tính = tỷ lệ tuân thủ × tổng số CCVCNLĐ "
                         "của đơn vị (làm tròn), coi những người qua cổng là mẫu đại diện cho "
                         "cán bộ, công chức, viên chức, người lao động của đơn vị; tỷ lệ cài đặt "
                         "= số ước tính / tổng số (hoặc / số người có điện thoại thông minh).",
        "note_total": "Dòng Tổng cộng: số người, số lượt và số ước tính là tổng của các đơn vị; "
                      "các tỷ lệ tính trên các tổng đó.",
        "note_other": "Khác: các cổng không thuộc đơn vị nào (không tính vào tổng số CCVCNLĐ).",
        "note_time": "Giờ Việt Nam (UTC+7).",
        "note_unplaced": "Bản ghi lúc cổng chưa đặt đồng hồ, không được tính: {n}.",
        "nation": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "motto": "Độc lập - Tự do - Hạnh phúc",
        "number": "Số:       /BC-{code}",
        "form_title": "BÁO CÁO",
        "subject_week": "Kết quả sử dụng ứng dụng Bluezone tuần {week} năm {year} "
                        "(từ {start} đến {end})",
        "subject_range": "Kết quả sử dụng ứng dụng Bluezone từ {start} đến {end}",
        "intro": "{organisation} báo cáo kết quả sử dụng ứng dụng Bluezone của cán bộ, công "
                 "chức, viên chức, người lao động qua cổng kiểm soát tại trụ sở như sau:",
        "recipients": "Nơi nhận:",
        "archive": "Lưu: VT.",
        "sign": "(Ký, ghi rõ họ tên)",
        "signer_title": "THỦ TRƯỞNG ĐƠN VỊ",
        "date": "%d/%m/%Y",
        "day_month": "%d/%m",
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
        "unit": {"day": "Day", "site": "Site", "gate": "Gate", "unit": "Unit"},
        "people": "People at the gate",
        "allowed": "Allowed",
        "no_app": "No app",
        "exempt": "Exempt",
        "exits": "Exits",
        "compliance": "Compliance",
        "devices": "Unique Bluezone devices",
        "android": "Android",
        "ios": "iOS",
        "busiest": "Busiest hour",
        "headcount": "Staff",
        "smartphones": "Staff with a smartphone",
        "estimated": "Staff running Bluezone (estimated)",
        "rate": "Install rate",
        "smartphone_rate": "Install rate among smartphones",
        "total": "Total",
        "no_site": "(unnamed)",
        "other": "Other",
        "chart_title": {"day": "Compliance by day", "unit": "Compliance by unit"},
        "chart_y": "Compliance (%)",
        "notes": "Notes",
        "note_compliance": "Compliance = allowed / (people at the gate − exempt); exits are not "
                           "people at the gate.",
        "note_no_app": "No app: the gate found no Bluezone phone (denied where the gate enforces, "
                       "recorded where it only monitors).",
        "note_devices": "Unique devices: distinct Bluezone IDs recorded (each phone's ID changes "
                        "every 15 minutes).",
        "note_estimate": "Staff running Bluezone, estimated = compliance × the unit's staff "
                         "(rounded), taking the people at the gate as a fair sample of the "
                         "unit's staff; install rate = the estimate / staff (or / staff with a "
                         "smartphone).",
        "note_total": "Total row: staff, counts and estimates are the units' sums; the rates are "
                      "worked out from those sums.",
        "note_other": "Other: gates in no unit (their staff are not in the total).",
        "note_time": "Vietnam time (UTC+7).",
        "note_unplaced": "Records made before the gate's clock was set, not counted: {n}.",
        "nation": "SOCIALIST REPUBLIC OF VIET NAM",
        "motto": "Independence - Freedom - Happiness",
        "number": "No.:       /BC-{code}",
        "form_title": "REPORT",
        "subject_week": "Bluezone use in week {week} of {year} ({start} to {end})",
        "subject_range": "Bluezone use from {start} to {end}",
        "intro": "{organisation} reports the use of Bluezone by its staff at the checkpoint "
                 "gates of its premises as follows:",
        "recipients": "Recipients:",
        "archive": "File: VT.",
        "sign": "(Signature, full name)",
        "signer_title": "HEAD OF THE OFFICE",
        "date": "%Y-%m-%d",
        "day_month": "%Y-%m-%d",
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


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def date_line(place: str, day: dt.date, lang: str) -> str:
    """'Hà Nội, ngày 01 tháng 12 năm 2026': Decree 30/2020/NĐ-CP writes days below 10 and the
    months January and February with a leading zero."""
    if lang == "en":
        return f"{place}, {day.day} {_MONTHS[day.month - 1]} {day.year}"
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"
