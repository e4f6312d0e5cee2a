//! The pages' words, in Vietnamese (the default) and English. Every text a page shows is a
//! field of [`Text`], so a page cannot show a text missing in one of the languages: the
//! compiler refuses a table without it.

/// A page's language: from `?lang=`, else the `lienthong_lang` cookie, else Vietnamese.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language (the toggle's target).
    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    pub fn text(self) -> &'static Text {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }

    /// `vi` or `en` of a bilingual pair.
    pub fn pick<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }
}

macro_rules! texts {
    ($($field:ident: $vi:literal, $en:literal;)*) => {
        /// Every text of the pages.
        #[derive(Debug)]
        pub struct Text {
            $(pub $field: &'static str,)*
        }

        pub static VI: Text = Text { $($field: $vi,)* };
        pub static EN: Text = Text { $($field: $en,)* };
    };
}

texts! {
    product: "Liên thông thủ tục hành chính", "Interlinked administrative procedures";
    skip: "Bỏ qua, tới nội dung chính", "Skip to the main content";
    language_name: "English", "Tiếng Việt";
    language_label: "Xem bằng tiếng Anh", "Xem bằng tiếng Việt";
    nav_label: "Chức năng", "Main menu";
    nav_desk: "Hồ sơ cần xử lý", "Work queue";
    nav_dashboard: "Báo cáo, thống kê", "Dashboard";
    nav_admin: "Quản trị", "Administration";
    nav_status: "Tra cứu hồ sơ", "Track a dossier";
    signed_in_as: "Đăng nhập:", "Signed in:";
    area_national: "Toàn quốc", "Nationwide";
    sign_in: "Đăng nhập", "Sign in";
    sign_out: "Đăng xuất", "Sign out";
    sign_in_title: "Đăng nhập dành cho cán bộ, công chức", "Staff sign-in";
    user_name: "Tên đăng nhập", "User name";
    password: "Mật khẩu", "Password";
    sign_in_refused: "Sai tên đăng nhập hoặc mật khẩu.", "Wrong user name or password.";
    role_agency_officer: "Cán bộ, công chức xử lý hồ sơ", "Agency officer";
    role_agency_system: "Hệ thống của cơ quan", "Agency system";
    role_manager: "Lãnh đạo, quản lý", "Manager";
    role_admin: "Quản trị hệ thống", "Administrator";
    role_portal: "Cổng dịch vụ công", "Public-service portal";
    not_found_title: "Không tìm thấy trang", "Page not found";
    not_found_text: "Trang này không có hoặc bạn không có quyền xem.", "This page does not exist or is not yours to see.";
    refused_title: "Yêu cầu bị từ chối", "Request refused";
    csrf_refused: "Biểu mẫu đã hết hạn hoặc không gửi từ trang này. Hãy tải lại trang và gửi lại.", "The form expired or was not sent from this site. Reload the page and send it again.";
    unavailable: "Hệ thống tạm thời không phục vụ được. Xin thử lại sau.", "The system cannot answer now. Please try again later.";
    too_many: "Quá nhiều yêu cầu. Xin thử lại sau ít phút.", "Too many requests. Please try again in a few minutes.";
    back: "Quay lại", "Back";
    // The officer's desk.
    desk_title: "Hồ sơ cần xử lý", "Work queue";
    desk_intro: "Sắp xếp theo thời gian làm việc còn lại, hồ sơ gấp nhất lên đầu.", "Sorted by working time left, the most urgent first.";
    filter: "Lọc", "Filter";
    filters: "Bộ lọc", "Filters";
    any: "Tất cả", "Any";
    procedure: "Thủ tục", "Procedure";
    status: "Trạng thái", "Status";
    commune: "Xã, phường", "Commune";
    commune_code: "Mã xã, phường (5 chữ số)", "Commune code (5 digits)";
    search_code: "Mã hồ sơ", "Dossier code";
    search: "Tìm", "Search";
    queued: "Chờ nhận", "Waiting";
    claimed: "Đang xử lý", "Claimed";
    dossier: "Hồ sơ", "Dossier";
    step: "Bước", "Step";
    received: "Ngày nhận", "Received";
    due: "Hạn xử lý", "Due";
    time_left: "Thời gian còn lại", "Time left";
    holder: "Người xử lý", "Officer";
    overdue: "Quá hạn", "Overdue";
    late_by: "Đã quá", "Late by";
    due_today: "Đến hạn hôm nay", "Due today";
    due_soon: "Sắp đến hạn", "Due soon";
    in_time: "Trong hạn", "In time";
    no_deadline: "Không tính hạn", "No deadline";
    working_hours: "giờ làm việc", "working hours";
    working_days: "ngày làm việc", "working days";
    empty_queue: "Không có hồ sơ nào cần xử lý.", "Nothing to do.";
    open: "Mở", "Open";
    claim: "Nhận xử lý", "Claim";
    release: "Trả lại hàng chờ", "Give back to the queue";
    claim_first: "Hãy nhận xử lý hồ sơ trước khi trả kết quả.", "Claim the task before answering it.";
    claimed_by_other: "Hồ sơ đang do cán bộ khác xử lý.", "Another officer holds this task.";
    claimed_by_you: "Bạn đang xử lý hồ sơ này đến", "You hold this task until";
    task_title: "Xử lý hồ sơ", "Task";
    what_step_reads: "Thông tin bước này được xem", "What this step reads";
    documents: "Giấy tờ đã cấp cho công dân", "Documents issued to the citizen";
    clock: "Đồng hồ thời hạn", "Deadline clock";
    clock_running: "Đang tính thời gian", "Running";
    clock_paused: "Tạm dừng (chờ công dân bổ sung)", "Paused (waiting for the citizen's supplement)";
    clock_stopped: "Đã dừng", "Stopped";
    complete: "Trả kết quả", "Complete";
    complete_intro: "Nhập kết quả của bước này. Các trường có dấu * là bắt buộc.", "Enter this step's result. Fields marked * are required.";
    form_errors: "Kết quả chưa hợp lệ, xem lỗi ở từng trường.", "The result is not valid: see each field's error.";
    field_required: "Bắt buộc nhập.", "Required.";
    field_bad_date: "Ngày phải theo dạng năm-tháng-ngày, ví dụ 2026-12-07.", "A date is written year-month-day, e.g. 2026-12-07.";
    field_bad_number: "Phải là một số.", "Must be a number.";
    field_bad_integer: "Phải là số nguyên.", "Must be a whole number.";
    field_bad_choice: "Hãy chọn một giá trị trong danh sách.", "Choose a value from the list.";
    field_too_long: "Quá dài.", "Too long.";
    yes: "Có", "Yes";
    no: "Không", "No";
    reject: "Từ chối giải quyết", "Refuse";
    reject_reason: "Lý do từ chối (công dân sẽ đọc)", "Reason for refusal (the citizen reads it)";
    supplement: "Yêu cầu bổ sung hồ sơ", "Ask for a supplement";
    supplement_reason: "Giấy tờ cần bổ sung, lý do", "Papers needed, and why";
    verify: "Chuyển sang xác minh", "Start verification";
    verify_basis: "Căn cứ pháp lý của việc xác minh", "Legal basis of the verification";
    verify_new_deadline: "Nếu xác minh, hạn mới của bước này sẽ là", "If verified, this step's new deadline will be";
    verify_confirm: "Tôi đã đọc hạn mới và xác nhận chuyển sang xác minh", "I have read the new deadline and confirm the verification";
    reason_required: "Hãy nhập lý do.", "Enter a reason.";
    done_message: "Đã ghi nhận.", "Recorded.";
    control_sheet: "Phiếu kiểm soát quá trình giải quyết hồ sơ", "Control sheet of the dossier's handling";
    timeline: "Các bước và thời gian giữ hồ sơ", "Steps and time held";
    held: "Thời gian giữ hồ sơ", "Time held";
    step_period: "Bắt đầu → kết thúc", "Started → finished";
    print: "In", "Print";
    dossier_title: "Hồ sơ", "Dossier";
    appointment: "Ngày hẹn trả kết quả", "Appointment for the result";
    procedures_of_group: "Các thủ tục trong nhóm", "Procedures of the group";
    // The dashboard.
    dashboard_title: "Báo cáo kết quả giải quyết hồ sơ", "Processing report";
    period_from: "Từ ngày", "From";
    period_to: "Đến ngày", "To";
    show: "Xem", "Show";
    group: "Nhóm thủ tục", "Procedure group";
    dossiers: "Số hồ sơ", "Dossiers";
    decided: "Đã giải quyết", "Decided";
    median_days: "Trung vị (ngày làm việc)", "Median (working days)";
    p90_days: "90% hồ sơ trong (ngày làm việc)", "90th percentile (working days)";
    legal_limit: "Thời hạn luật định", "Legal limit";
    target: "Chỉ tiêu nội bộ", "Internal target";
    baseline: "Trước cải cách", "Before the reform";
    on_time_rate: "Tỉ lệ đúng hạn", "On-time rate";
    online_rate: "Tỉ lệ nộp trực tuyến", "Online rate";
    received_online: "Nhận trực tuyến", "Received online";
    received_in_person: "Nhận trực tiếp", "Received in person";
    resolved_early: "Trước hạn", "Early";
    resolved_on_time: "Đúng hạn", "On time";
    resolved_late: "Quá hạn", "Late";
    in_progress_within: "Đang giải quyết, trong hạn", "In progress, within time";
    in_progress_overdue: "Đang giải quyết, quá hạn", "In progress, overdue";
    chart_title: "Thời gian giải quyết so với thời hạn và trước cải cách (ngày làm việc)", "Processing time against the legal limit and before the reform (working days)";
    chart_median: "Trung vị hiện nay", "Median now";
    by_agency: "Thời gian giữ hồ sơ theo cơ quan", "Time held per agency";
    agency: "Cơ quan", "Agency";
    steps_held: "Số lượt", "Steps";
    total_days: "Tổng (ngày làm việc)", "Total (working days)";
    mean_days: "Bình quân (ngày làm việc)", "Mean (working days)";
    late_dossiers: "Hồ sơ trễ hạn", "Late dossiers";
    trend: "Diễn biến theo tuần", "Week by week";
    week_of: "Tuần bắt đầu", "Week of";
    worst_steps: "Các bước hay trễ hạn nhất", "Steps most often late";
    breach_count: "Số lần quá hạn", "Times late";
    no_breach: "Không bước nào quá hạn.", "No step ran late.";
    no_late: "Không có hồ sơ trễ hạn.", "No late dossier.";
    export_csv: "Tải về CSV", "Download CSV";
    export_xlsx: "Tải về Excel (XLSX)", "Download Excel (XLSX)";
    trend_month: "Diễn biến theo tháng", "Month by month";
    month_of: "Tháng", "Month";
    trend_by: "Xem diễn biến", "Trend";
    received_count: "Số hồ sơ tiếp nhận", "Received";
    decided_late: "Giải quyết quá hạn", "Decided late";
    by_week: "Theo tuần", "By week";
    by_month: "Theo tháng", "By month";
    carried_over: "Kỳ trước chuyển sang", "Carried over";
    by_province: "Theo tỉnh, thành phố", "By province";
    worst_communes: "Các xã, phường có nhiều hồ sơ trễ hạn nhất", "Communes with the most late dossiers";
    province: "Tỉnh, thành phố", "Province";
    no_commune: "(không ghi xã, phường)", "(no commune recorded)";
    stored_before: "Hồ sơ đã kết thúc trước ngày", "Dossiers closed before";
    stored_rest: "được lấy từ bảng tổng hợp hằng ngày; các hồ sơ khác được tính trực tiếp.", "are read from the daily totals; the others are counted live.";
    no_data: "Chưa có số liệu.", "No figures yet.";
    // The administrator's console.
    admin_title: "Quản trị thủ tục", "Procedures";
    published_versions: "Các phiên bản đã công bố", "Published versions";
    version: "Phiên bản", "Version";
    effective_from: "Hiệu lực từ", "In force from";
    in_force: "Đang áp dụng", "In force";
    published_at: "Ngày công bố", "Published";
    graph: "Sơ đồ quy trình", "Process graph";
    validate_title: "Kiểm tra, công bố định nghĩa thủ tục (YAML)", "Validate and publish a definition (YAML)";
    definition_text: "Nội dung định nghĩa (YAML)", "Definition (YAML)";
    definition_file: "Hoặc chọn tệp YAML", "Or choose a YAML file";
    validate: "Kiểm tra", "Validate";
    publish: "Công bố", "Publish";
    valid: "Định nghĩa hợp lệ.", "The definition is valid.";
    invalid: "Định nghĩa có lỗi:", "The definition has errors:";
    line: "Dòng", "Line";
    published: "Đã công bố", "Published";
    calendar_title: "Lịch làm việc", "Working calendar";
    calendar_days: "Ngày nghỉ lễ, nghỉ bù và ngày làm bù", "Holidays, days off in lieu and working Saturdays";
    provisional: "Tạm tính: chưa có thông báo chính thức của năm này", "Provisional: this year's official notice is not in yet";
    date: "Ngày", "Date";
    weekday: "Thứ", "Weekday";
    kind: "Loại", "Kind";
    name: "Tên", "Name";
    year: "Năm", "Year";
    notice_title: "Tải lên thông báo nghỉ lễ của năm (YAML)", "Upload the year's holiday notice (YAML)";
    notice_text: "Nội dung thông báo (YAML)", "Notice (YAML)";
    upload: "Tải lên", "Upload";
    notice_installed: "Đã áp dụng thông báo. Phiên bản lịch:", "Notice in force. Calendar version:";
    incidents_title: "Sự cố cần xử lý", "Incidents";
    incidents_intro: "Các bước không gửi được tới cơ quan sau nhiều lần thử. Thử lại khi hệ thống của cơ quan đã hoạt động, hoặc bỏ qua bước (ghi rõ lý do).", "Steps that could not reach their agency after several attempts. Retry once the agency's system works again, or skip the step (say why).";
    no_incidents: "Không có sự cố.", "No incident.";
    since: "Từ lúc", "Since";
    attempts: "Số lần thử", "Attempts";
    message: "Lỗi", "Error";
    resolve: "Xử lý", "Resolve";
    resolve_reason: "Lý do", "Reason";
    retry: "Thử lại", "Retry";
    skip_step: "Bỏ qua bước", "Skip the step";
    accounts_title: "Tài khoản và khóa API", "Accounts and API keys";
    staff_accounts: "Tài khoản cán bộ", "Staff accounts";
    api_keys: "Khóa API của hệ thống", "Systems' API keys";
    role: "Vai trò", "Role";
    area: "Địa bàn", "Area";
    label: "Ghi chú (khóa API)", "Label (API keys)";
    disable: "Khóa tài khoản", "Disable";
    disabled: "Đã khóa", "Disabled";
    revoke: "Thu hồi", "Revoke";
    revoked: "Đã thu hồi", "Revoked";
    new_account: "Tạo tài khoản hoặc khóa API", "New account or API key";
    agency_role: "Vai trò cơ quan (với cán bộ, hệ thống cơ quan)", "Agency role (agency roles only)";
    province_code: "Mã tỉnh, thành phố (2 chữ số)", "Province code (2 digits)";
    first_password: "Mật khẩu ban đầu (ít nhất 12 ký tự)", "First password (12 characters or more)";
    create_account: "Tạo tài khoản", "Create the account";
    create_key: "Tạo khóa API", "Create an API key";
    account_created: "Đã tạo tài khoản", "Account created:";
    key_created: "Khóa API mới (chỉ hiện một lần, hãy lưu lại ngay):", "The new API key (shown once; keep it now):";
    // The citizen's status page.
    status_title: "Tra cứu tình trạng hồ sơ", "Track your dossier";
    status_intro: "Nhập mã hồ sơ trên giấy tiếp nhận và số định danh cá nhân của người nộp.", "Enter the code on your receipt and the applicant's personal ID number.";
    personal_id: "Số định danh cá nhân (12 chữ số)", "Personal ID number (12 digits)";
    look_up: "Tra cứu", "Look up";
    status_unknown: "Không tìm thấy hồ sơ với mã và số định danh này.", "No dossier matches this code and ID number.";
    procedure_done: "Đã có kết quả", "Result ready";
    procedure_open: "Đang giải quyết", "In progress";
}
