"""The report's words in English and Chinese, side by side: one catalogue.

``with language("zh"): write ...`` makes every :func:`t` call, KPI label, unit,
money amount and column header below speak Chinese; names the user gave
(variants, strategies, sweep parameters) stay as given. A key missing from the
catalogue is a KeyError, never a silent English fallback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sim.config import ConfigError, Options
from sim.metrics import KPI_BY_NAME

__all__ = ["LANGUAGES", "language", "current", "t", "kpi_label", "kpi_words", "unit",
           "money", "header", "cause_label", "channel_label"]

LANGUAGES = ("en", "zh")
_LANG: ContextVar[str] = ContextVar("report_language", default="en")

# key: (English, Chinese); str.format fields are filled by t(key, **fields).
MESSAGES: dict[str, tuple[str, str]] = {
    # --- page, sections, meta
    "title": ("Experiment report: {name}", "实验报告：{name}"),
    "sec.question": ("The question", "问题"),
    "sec.verdicts": ("Verdicts", "结论"),
    "sec.ranking": ("Ranking", "排名"),
    "sec.failed": ("Failed cells", "失败的单元"),
    "sec.lift": ("Paired lift against the baseline", "相对基准的配对提升"),
    "sec.trajectories": ("KPI trajectories", "KPI 轨迹"),
    "sec.money": ("Money", "资金"),
    "sec.channels": ("Channels and funnel", "渠道与漏斗"),
    "sec.ecosystem": ("The ecosystem", "生态"),
    "sec.sweep": ("Sweep", "参数扫描"),
    "sec.sensitivity": ("Sensitivity", "敏感性"),
    "sec.tables": ("Tables", "表格"),
    "meta.experiment": ("experiment", "实验"),
    "meta.description": ("description", "描述"),
    "meta.scenario": ("scenario", "情景"),
    "meta.horizon": ("horizon", "模拟期"),
    "meta.days": ("{days} days", "{days} 天"),
    "meta.replications": ("replications", "重复次数"),
    "meta.seed": ("seed", "随机种子"),
    "meta.variants": ("variants", "方案"),
    "meta.version": ("sim version", "sim 版本"),
    "meta.date": ("report date", "报告日期"),
    "ranking.about": (
        "Every variant on each headline KPI. P(best) is the share of 2,000 paired bootstrap "
        "resamples of the replications in which the variant has the best mean; the p-values "
        "of the differences between every two variants are Holm-adjusted "
        "(tables/ranking_pairs.csv).",
        "每个方案在每个核心 KPI 上的表现。P(最佳) 是 2,000 次重复配对自助重抽样中该方案均值"
        "最佳的比例；任意两个方案之差的 p 值经 Holm 校正（tables/ranking_pairs.csv）。"),
    "failed": ("{n} cells failed and are left out: {cells}", "{n} 个单元失败，已排除：{cells}"),
    # --- figure captions
    "cap.forest": ("Change of each headline KPI at the horizon, % of the baseline, 95 % paired "
                   "CI", "模拟期末各核心 KPI 的变化，占基准的百分比，95 % 配对置信区间"),
    "cap.trajectories": ("Mean over replications with 95 % bands", "各次重复的均值及 95 % 区间带"),
    "cap.spend": ("Strategy spend by cause, yuan per run", "按用途划分的策略支出，每次运行（元）"),
    "cap.cumnet": ("Cumulative incremental net contribution against the baseline",
                   "相对基准的累计增量净贡献"),
    "cap.costeff": ("Incremental net contribution against incremental spend",
                    "增量净贡献与增量支出"),
    "cap.channels": ("Share of payment volume by channel", "各渠道支付金额占比"),
    "cap.funnel": ("Acquired, 90 days on, still monthly-active", "获客、90 天后、仍月活"),
    "cap.point": ("{caption}; sweep point shown: {label} (the tables list every point)",
                  "{caption}；图示扫描点：{label}（表格列出所有扫描点）"),
    "cap.ecosystem": ("Chains and the channels that carry their flow",
                      "场景链及承载其资金流的渠道"),
    "cap.sweep": ("Paired differences along the swept parameter", "沿扫描参数的配对差异"),
    "cap.tornado": ("Morris / Sobol indices per parameter", "各参数的 Morris / Sobol 指数"),
    # --- figure texts
    "fig.change": ("Change against the baseline", "相对基准的变化"),
    "fig.change_unit": ("% of baseline, 95 % paired CI", "占基准 %，95 % 配对置信区间"),
    "fig.lift": ("Paired lift against the baseline", "相对基准的配对提升"),
    "fig.bank_share": ("Bank app share of volume (7-day)", "本行 App 金额占比（7 日）"),
    "fig.share": ("Share", "占比"),
    "fig.share_unit": ("fraction of yuan paid", "支付金额占比"),
    "fig.day": ("Day", "天"),
    "fig.trajectories": ("KPI trajectories (mean and 95 % band over replications)",
                         "KPI 轨迹（各次重复的均值与 95 % 区间带）"),
    "fig.spend": ("Spend", "支出"),
    "fig.per_run": ("yuan per run", "元/次运行"),
    "fig.spend_title": ("Where each yuan went: spend by cause", "钱花在哪里：按用途划分的支出"),
    "fig.cumnet": ("Cumulative incremental net contribution", "累计增量净贡献"),
    "fig.cumnet_title": ("Does it pay back? Cumulative net contribution against the baseline",
                         "能否回本？相对基准的累计净贡献"),
    "fig.inc_spend": ("Incremental spend", "增量支出"),
    "fig.inc_net": ("Incremental net contribution", "增量净贡献"),
    "fig.costeff_title": ("Cost-effectiveness (95 % paired CIs)", "成本效益（95 % 配对置信区间）"),
    "fig.vol_share": ("Share of volume", "金额占比"),
    "fig.fraction": ("fraction", "比例"),
    "fig.channels_title": ("Channel shares of payment volume (7-day mean)",
                           "各渠道支付金额占比（7 日均值）"),
    "fig.app_users": ("App users", "App 用户"),
    "fig.funnel_title": ("Funnel: acquired -> 90 days on -> still active",
                         "漏斗：获客 -> 90 天后 -> 仍活跃"),
    "fig.partner": ("Tech\npartner", "科技\n伙伴"),
    "fig.on_bank": ("{on}/{all} on bank", "{on}/{all} 在本行"),
    "fig.category": ("Chain category", "场景类别"),
    "fig.eco_title": ("Ecosystem at the end of replication 0: {variant}{where} ({why})\n"
                      "who carries the flow; edge width = daily volume; ring colour = main "
                      "carrier",
                      "第 0 次重复期末生态：{variant}{where}（{why}）\n"
                      "谁承载资金流；边宽 = 日交易额；环颜色 = 主要渠道"),
    "fig.eco_at": (" at {label}", "，{label}"),
    "fig.eco_best": ("best on {what}", "{what}最佳"),
    "fig.eco_chosen": ("chosen in [report] graph_variant", "由 [report] graph_variant 指定"),
    "fig.bank_panel": ("Bank app share", "本行 App 占比"),
    "fig.diff_base": ("Difference vs baseline", "相对基准的差异"),
    "fig.sweep_title": ("Sweep: paired difference against the baseline (95 % CI)",
                        "参数扫描：相对基准的配对差异（95 % 置信区间）"),
    "fig.morris": ("Morris mu*", "Morris mu*"),
    "fig.sobol": ("Sobol total index", "Sobol 总效应指数"),
    "fig.tornado_title": ("Sensitivity of the paired difference (tornado)",
                          "配对差异的敏感性（龙卷风图）"),
    # --- verdicts
    "v.interval": ("95 % CI {lo} to {hi}", "95 % 置信区间 {lo} 至 {hi}"),
    "v.no_interval": ("one replication: no interval", "仅一次重复：无区间"),
    "v.fact_zero": ("{label}: no change distinguishable from zero ({diff}, {interval})",
                    "{label}：无可与零区分的变化（{diff}，{interval}）"),
    "v.fact": ("{label}: {diff} ({interval})", "{label}：{diff}（{interval}）"),
    "v.head_zero": ("no change in {what} distinguishable from zero ({diff}, {interval})",
                    "{what}无可与零区分的变化（{diff}，{interval}）"),
    "v.head": ("{diff} {what} ({interval})", "{what} {diff}（{interval}）"),
    "v.yuan_per_yuan": ("yuan per yuan", "元/元"),
    "v.each": ("each", "每单位"),
    "v.unbounded": ("unbounded (no gain in some resamples)", "无上界（部分重抽样无增益）"),
    "v.per_unit": (", {value} {each} (95 % CI {lo} to {hi})",
                   "，{value} {each}（95 % 置信区间 {lo} 至 {hi}）"),
    "v.payback_undated": ("Payback cannot be dated (its net effect is not distinguishable from "
                          "zero).", "无法确定回本日（净效应与零不可区分）。"),
    "v.no_payback": ("Does not pay back within the horizon.", "在模拟期内未回本。"),
    "v.day": ("day {day:.0f}", "第 {day:.0f} 天"),
    "v.beyond": ("beyond the horizon", "超出模拟期"),
    "v.payback": ("Pays back on day {day:.0f} (95 % CI day {lo:.0f} to {hi}).",
                  "第 {day:.0f} 天回本（95 % 置信区间 第 {lo:.0f} 天至{hi}）。"),
    "v.at": (" at {label}", "（{label}）"),
    "v.for": (" for {money}", "，花费 {money}"),
    "v.no_spend": (" at no strategy spend", "，无策略支出"),
    "v.verdict": ("{variant}{where}: {head}.", "{variant}{where}：{head}。"),
    "v.stop": (".", "。"),
    "v.used": ("{label} used {spent} of its {budget} budget ({share:.0%})",
               "{label} 使用了 {spent}，预算 {budget}（{share:.0%}）"),
    "v.spent": ("{label} spent {spent} (no budget cap)", "{label} 支出 {spent}（无预算上限）"),
    "v.unfunded": ("{label} had a budget of 0 and spent {spent}",
                   "{label} 预算为 0，支出 {spent}"),
    "v.hunters": (", {share:.0%} of it to bonus hunters", "，其中 {share:.0%} 流向羊毛党"),
    "v.counter": ("payment platforms answered with counter-subsidies in {chains} ({n} of {reps} "
                  "replications, first on day {day:.0f})",
                  "支付平台在 {chains} 以反补贴回应（{reps} 次重复中 {n} 次，"
                  "最早在第 {day:.0f} 天）"),
    "v.budget": ("Budget: {notes}.", "预算：{notes}。"),
    "v.exhausted": ("budget exhausted on day {day:.0f} (median; {n} of {reps} replications)",
                    "第 {day:.0f} 天预算耗尽（中位数；{reps} 次重复中 {n} 次）"),
    "v.so_ended": ("so it ended", "因此提前结束"),
    "v.ended_budget": ("it ended for lack of budget", "因预算不足而结束"),
    "v.before_close": ("{days:.0f} days before its window was to close on day {end:.0f}",
                       "比原定第 {end:.0f} 天结束提早 {days:.0f} 天"),
    "v.before_end": ("{days:.0f} days before the run's end on day {end:.0f}",
                     "比模拟结束（第 {end:.0f} 天）提早 {days:.0f} 天"),
    "v.on_day": ("on day {day:.0f}", "于第 {day:.0f} 天"),
    "v.ended_when": ("{ended} {when}", "{ended}，{when}"),
    "v.of_reps": (" ({n} of {reps} replications)", "（{reps} 次重复中 {n} 次）"),
    "v.window_closed": ("its window closed on day {day:.0f}", "其窗口于第 {day:.0f} 天关闭"),
    "v.over": ("costs owed under signed contracts went beyond the budget from day {day:.0f} "
               "({n} of {reps} replications)",
               "自第 {day:.0f} 天起已签合同的应付成本超出预算（{reps} 次重复中 {n} 次）"),
    "v.backlash": ("exclusivity cancelled by backlash at {n:.1f} institutions on average "
                   "(first on day {day:.0f})",
                   "因抵制平均有 {n:.1f} 家机构取消独家（最早在第 {day:.0f} 天）"),
    "v.left": ("{n:,.1f} payees on average left the bank after their terms ended",
               "条款结束后平均 {n:,.1f} 个收款方离开本行"),
    "v.unserved": ("{n:,.1f} payees on average it won were not served for lack of budget "
                   "(from day {day:.0f})", "平均 {n:,.1f} 个已争取到的收款方因预算不足未获服务"
                   "（自第 {day:.0f} 天起）"),
    ",": (", ", "，"),
    "v.sep": (" ", ""),
    ";": ("; ", "；"),
    # --- ranking sentences
    "r.others": ("{names} and {n} others", "{names} 等 {n} 个"),
    "r.and": ("{names} and {last}", "{names} 和 {last}"),
    "r.list": (", ", "、"),
    "r.where": ("At {label}, ", "在 {label}，"),
    "r.share": ("best in {p:.0%} of paired bootstrap resamples of the replications",
                "在 {p:.0%} 的重复配对自助重抽样中最佳"),
    "r.few": (", overconfident with only {n} replications", "，仅 {n} 次重复，此比例过于乐观"),
    "r.one": ("{variant} has the best {what} in the one replication run; one replication cannot "
              "rank the variants.",
              "{variant} 在唯一一次重复中{what}最佳；一次重复无法为方案排名。"),
    "r.best": ("best for {what}: {best} ({gap} ahead of the next, {runner}, Holm-adjusted p = "
               "{p:.2g}; {share}).",
               "{what}最佳：{best}（领先次优的 {runner} {gap}，Holm 校正 p = {p:.2g}；{share}）。"),
    "r.identical": ("they are identical in every replication, so no number of replications "
                    "would", "它们在每次重复中都相同，增加重复次数也无法区分"),
    "r.level_pairs": ("{alpha:.0%} over {m} pairs", "{m} 对比较、显著性 {alpha:.0%}"),
    "r.level_two": ("{alpha:.0%} two-sided", "双侧显著性 {alpha:.0%}"),
    "r.more": ("about {n:,.0f} replications would (now {now}; from the observed paired SD, "
               "{power:.0%} power at {level})",
               "约需 {n:,.0f} 次重复（目前 {now} 次；按观测到的配对标准差，{level}，"
               "功效 {power:.0%}）"),
    "r.gap": ("{best} leads {runner} by {gap}, Holm-adjusted p = {p:.2g}; {share}",
              "{best} 领先 {runner} {gap}，Holm 校正 p = {p:.2g}；{share}"),
    "r.tied": ("the data cannot separate {names} on {what} ({gap}); {more}.",
               "数据无法在 {what} 上区分 {names}（{gap}）；{more}。"),
    "r.best_point": ("Across the sweep, {variant} does best on {what} at {label} ({diff} against "
                     "the baseline; best point in {share:.0%} of paired bootstrap resamples).",
                     "在整个扫描中，{variant} 的{what}在 {label} 时最佳（相对基准 {diff}；"
                     "在 {share:.0%} 的配对自助重抽样中为最佳点）。"),
    # --- the console of sim run
    "console.ranking": ("ranking{where} (mean; P(best) by paired bootstrap; ranking.csv, "
                        "Holm-adjusted pairs in ranking_pairs.csv):",
                        "排名{where}（均值；P(最佳) 由配对自助法估计；见 ranking.csv，"
                        "Holm 校正的两两比较见 ranking_pairs.csv）："),
    "console.kpi": ("  {kpi}: ", "  {label}："),
    "console.rank": ("{rank}. {variant} {mean} (p_best {p:.0%})",
                     "{rank}. {variant} {mean}（P(最佳) {p:.0%}）"),
    "console.report": ("report: {path}", "报告：{path}"),
    "console.results": ("results in {out}/ (kpis.parquet, summary.csv, cost_effectiveness.csv, "
                        "ranking.csv, manifest.json)",
                        "结果在 {out}/（kpis.parquet、summary.csv、cost_effectiveness.csv、"
                        "ranking.csv、manifest.json）"),
    # --- tables
    "tab.not_within": ("not within the horizon", "模拟期内未回本"),
    "tab.incremental": ("incremental {label} ({unit})", "增量 {label}（{unit}）"),
    "tab.per_unit": ("yuan per incremental unit: {label} (95 % CI)",
                     "每增量单位成本（元）：{label}（95 % 置信区间）"),
}

# Column headers of the report's tables (a header not listed stays as it is).
HEADERS: dict[str, str] = {
    "sweep point": "扫描点", "variant": "方案", "kpi": "KPI", "unit": "单位", "mean": "均值",
    "sd": "标准差", "ci_low": "置信下限", "ci_high": "置信上限", "diff": "差异",
    "diff_ci_low": "差异下限", "diff_ci_high": "差异上限", "share_better": "优于基准的重复占比",
    "replications": "重复次数", "rank": "名次", "p_value": "p 值",
    "incremental spend (yuan)": "增量支出（元）",
    "incremental net contribution (yuan)": "增量净贡献（元）",
    "ROI (95 % CI)": "投资回报率（95 % 置信区间）",
    "payback day (95 % CI)": "回本日（95 % 置信区间）",
    "difference from the best": "与最佳之差",
    "Holm-adjusted p vs the best": "相对最佳的 Holm 校正 p",
    "separated from the best": "与最佳可区分", "P(best), paired bootstrap": "P(最佳)，配对自助法",
    "variant_a": "方案 A", "variant_b": "方案 B", "p_holm": "Holm 校正 p", "separated": "可区分",
}

UNITS = {"customers": "人", "yuan": "元", "merchants": "家商户", "payments": "笔", "claims": "笔"}

KPI_ZH = {
    "customers": "客户", "app_users": "App 用户（已安装）", "app_mau": "App 月活用户",
    "app_dau": "App 日活用户", "accounts": "本行账户", "debit_cards": "借记卡",
    "credit_cards": "信用卡", "retail_deposits": "零售存款",
    "retail_deposits_new_accounts": "第 0 天以来新开账户的零售存款",
    "corporate_deposits": "对公存款", "merchants_on_bank": "本行收单的收款方",
    "acquired_users": "第 0 天以来获客的 App 用户", "acquired_90d_ago": "获客满 90 天",
    "retained_90d": "获客满 90 天且仍月活", "new_accounts": "新开账户",
    "new_app_users": "新安装 App（所有途径）", "uninstalls": "App 卸载（休眠 App、销户）",
    "closed_accounts": "销户（休眠新账户）", "payments": "支付笔数",
    "fallback_payments": "柜台支付（无渠道）", "volume_bank_app": "本行 App 支付金额",
    "volume_wechat": "微信支付金额", "volume_alipay": "支付宝金额", "volume_card": "银行卡支付金额",
    "volume_cash": "现金支付金额", "volume_bank_acquired": "本行收单收款方的非现金收款",
    "fee_income": "收单手续费收入（毛）", "acquiring_cost": "收单的钱包与卡组织成本",
    "net_interest_income": "净利息收入", "card_income": "信用卡收入",
    "account_cost": "账户服务成本",
    "strategy_spend": "策略支出", "abuse_loss": "薅羊毛损失",
    "claims_refused_genuine": "风控误拒的真实申领", "net_contribution": "净贡献",
}

CAUSES = {  # a strategy's ledger cause -> (English, Chinese)
    "abuse": ("Paid to bonus hunters", "羊毛党领取"), "counter_service": ("Counter service",
                                                                  "柜台服务"),
    "development": ("Development fee", "开发费"), "devices": ("Devices", "设备"),
    "fee_waived": ("Fees waived", "减免手续费"), "payout": ("Payouts", "优惠支出"),
    "reward": ("Rewards", "奖励"), "running": ("Running cost", "运营成本"),
    "screening": ("Screening", "风控审核"), "setup": ("Setup", "部署"),
    "switching_subsidy": ("Switching subsidy", "切换补贴"),
}

KINDS = {  # strategy kinds as a reader says them
    "aggregated_qr": ("Aggregated QR", "聚合码"), "campaign": ("Campaign", "营销活动"),
    "exclusive_channel": ("Exclusive channel", "独家渠道"),
    "fee_waiver": ("Fee waiver", "手续费减免"),
    "omnichannel": ("Omnichannel", "全渠道"), "promotion": ("Promotion", "促销"),
    "referral": ("Referral", "推荐"), "risk_control": ("Risk control", "风控"),
    "targeting": ("Targeting", "精准营销"),
}

CHANNEL_NAMES = {"bank_app": ("Bank app", "本行 App"), "wechat": ("WeChat Pay", "微信支付"),
                 "alipay": ("Alipay", "支付宝"), "card": ("Card", "银行卡"),
                 "cash": ("Cash", "现金")}

# Money: (threshold, format) from the largest; Chinese counts in 万 (1e4) and 亿 (1e8).
MONEY = {"en": ((1e6, "{:,.2f} M yuan"), (1e3, "{:,.1f} K yuan"), (0.0, "{:,.0f} yuan")),
         "zh": ((1e8, "{:,.2f} 亿元"), (1e4, "{:,.1f} 万元"), (0.0, "{:,.0f} 元"))}


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Speak ``lang`` ("en" or "zh") inside the block.

    Raises
    ------
    ConfigError
        If ``lang`` is not one of :data:`LANGUAGES`.
    """
    if lang not in LANGUAGES:
        raise ConfigError("--lang", lang, Options(LANGUAGES).describe())
    token = _LANG.set(lang)
    try:
        yield
    finally:
        _LANG.reset(token)


def current() -> str:
    """The language in force ("en" unless inside :func:`language`)."""
    return _LANG.get()


def _pick(pair: tuple[str, str]) -> str:
    return pair[LANGUAGES.index(_LANG.get())]


def t(key: str, **fields) -> str:
    """Message ``key`` in the current language, its ``{fields}`` filled in."""
    return _pick(MESSAGES[key]).format(**fields)


def kpi_label(name: str) -> str:
    """The KPI's label ("Debit cards" / "借记卡")."""
    return KPI_ZH[name] if _LANG.get() == "zh" else KPI_BY_NAME[name].label


def kpi_words(name: str) -> str:
    """The KPI's label inside a sentence ("debit cards"; Chinese as the label)."""
    label = kpi_label(name)
    return label if _LANG.get() == "zh" else label[:1].lower() + label[1:]


def unit(name: str) -> str:
    """A registry unit ("yuan", "customers") in the current language."""
    return UNITS.get(name, name) if _LANG.get() == "zh" else name


def money(x: float) -> str:
    """An amount of yuan, rounded for reading: "350.0 K yuan" / "35.0 万元"; never "-0"."""
    x = x + 0.0
    if abs(x) < 0.5:
        return MONEY[_LANG.get()][-1][1].format(0)
    threshold, fmt = next(step for step in MONEY[_LANG.get()] if abs(x) >= step[0])
    return fmt.format(x / threshold if threshold else x)


def header(column: str) -> str:
    """A table column header in the current language (unlisted ones as they are)."""
    return HEADERS.get(column, column) if _LANG.get() == "zh" else column


def cause_label(cause: str, with_owner: bool = True) -> str:
    """A ledger cause id ("exclusive_channel:development") as a reader says it:
    "Development fee (Exclusive channel)"; a strategy the user named keeps its name,
    and without ``with_owner`` only the cost ("Development fee")."""
    owner, _, what = cause.rpartition(":")
    text = _pick(CAUSES[what]) if what in CAUSES else what.replace("_", " ")
    if not with_owner or not owner:
        return text
    kind, _, n = owner.partition("#")
    who = _pick(KINDS[kind]) + (f" #{n}" if n else "") if kind in KINDS else owner
    return f"{text} ({who})" if _LANG.get() == "en" else f"{text}（{who}）"


def channel_label(channel: str) -> str:
    """A channel id ("bank_app") as a reader says it ("Bank app")."""
    return _pick(CHANNEL_NAMES[channel])
