package category

// The demo catalogue: a 全科网格 (one grid, all affairs) catalogue in the GB/T 30428.2 style. City
// management uses the standard's six event 大类 and five component 大类; social governance adds
// event 大类 07–10. Time limits follow published local standards (e.g. 暴露垃圾 1 work day,
// 井盖缺失 2 urgent hours, 违法建设 15 work days); default departments are department codes the
// demo city creates (see DepartmentCodes).

// Departments the catalogue names, by code, with the names the demo gives them.
var catalogueDepartments = [][2]string{
	{"cgj", "城市管理局"},
	{"scjg", "市场监督管理局"},
	{"zjj", "住房和城乡建设局"},
	{"hbj", "生态环境局"},
	{"gaj", "公安局"},
	{"sw", "水务局"},
	{"gdj", "供电公司"},
	{"mzj", "民政局"},
	{"jd", "街道办事处"},
}

// DepartmentCodes returns the codes and names of the departments Catalogue's classes name as
// their default department, so a seed can create them first.
func DepartmentCodes() [][2]string {
	out := make([][2]string, len(catalogueDepartments))
	copy(out, catalogueDepartments)
	return out
}

type entry struct {
	code, name, filing, closing, dept string
	normal, urgent                    Limit
	check, self                       bool
	keywords                          []string
}

func wd(n int) Limit { return Limit{Value: n, Unit: WorkDays} }
func wh(n int) Limit { return Limit{Value: n, Unit: WorkHours} }
func uh(n int) Limit { return Limit{Value: n, Unit: UrgentHours} }
func nd(n int) Limit { return Limit{Value: n, Unit: NaturalDays} }

var majors = map[string]string{
	"C01": "公用设施", "C02": "道路交通", "C03": "市容环境", "C04": "园林绿化", "C05": "其他",
	"E01": "市容环境", "E02": "宣传广告", "E03": "施工管理", "E04": "突发事件", "E05": "街面秩序",
	"E06": "扩展事件", "E07": "矛盾纠纷", "E08": "安全隐患", "E09": "民生服务", "E10": "疫情防控",
}

const manholeFiling = "井盖缺失、破损、移位、下陷或凸起，影响通行安全"
const manholeClosing = "井盖补齐或更换到位，与路面平顺，缺失井盖已设警示并在时限内补齐"

var catalogue = []entry{
	// 部件 01 公用设施
	{"C0101", "上水井盖", manholeFiling, manholeClosing, "sw", wd(1), uh(2), true, false, []string{"井盖", "自来水", "窨井"}},
	{"C0102", "污水井盖", manholeFiling, manholeClosing, "sw", wd(1), uh(2), true, false, []string{"井盖", "污水", "窨井"}},
	{"C0103", "雨水井盖", manholeFiling, manholeClosing, "sw", wd(1), uh(2), true, false, []string{"井盖", "雨水"}},
	{"C0104", "雨水箅子", "雨水箅子缺失、破损或堵塞", "箅子补齐更换，排水通畅", "sw", wd(2), uh(4), true, false, []string{"箅子", "排水", "堵塞"}},
	{"C0105", "电力井盖", manholeFiling, manholeClosing, "gdj", wd(1), uh(2), true, false, []string{"井盖", "电力"}},
	{"C0106", "燃气井盖", manholeFiling, manholeClosing, "zjj", wd(1), uh(2), true, false, []string{"井盖", "燃气", "煤气"}},
	{"C0107", "无主井盖", manholeFiling + "，权属单位不明", manholeClosing, "cgj", wd(1), uh(2), true, false, []string{"井盖"}},
	{"C0108", "路灯", "路灯不亮、白天常亮、灯杆倾斜或灯具破损", "路灯恢复正常照明，灯杆灯具完好", "cgj", wd(3), uh(8), true, false, []string{"路灯", "不亮", "灯杆"}},
	{"C0109", "消火栓", "消火栓损坏、漏水、被圈占或遮挡", "消火栓完好可用，周边无遮挡", "gaj", wd(2), uh(4), true, false, []string{"消防栓", "消火栓"}},
	// 部件 02 道路交通
	{"C0201", "交通信号灯", "信号灯不亮、常亮、倒伏或显示错误", "信号灯恢复正常", "gaj", wh(4), uh(2), true, false, []string{"红绿灯", "信号灯"}},
	{"C0202", "交通护栏", "护栏缺失、破损、倾倒", "护栏修复或更换，连续完好", "gaj", wd(2), uh(4), true, false, []string{"护栏", "隔离栏"}},
	{"C0203", "交通标志牌", "标志牌缺失、破损、倾斜或被遮挡", "标志牌完好、清晰、无遮挡", "gaj", wd(3), uh(8), true, false, []string{"标志", "标牌"}},
	{"C0204", "路名牌", "路名牌缺失、破损、错误或倾斜", "路名牌完好、正确", "mzj", wd(5), wd(1), true, false, []string{"路牌", "地名"}},
	{"C0205", "公交站亭", "站亭破损、污损或站牌缺失", "站亭修复，整洁完好", "cgj", wd(3), uh(8), true, false, []string{"公交", "站台"}},
	{"C0206", "盲道", "盲道破损、缺失或被占用", "盲道连续完好、无占用", "zjj", wd(5), wd(1), true, false, []string{"盲道"}},
	// 部件 03 市容环境
	{"C0301", "公共厕所", "公厕设施损坏、脏乱或未按时开放", "设施修复，保洁到位，正常开放", "cgj", wd(1), uh(4), true, false, []string{"厕所", "公厕"}},
	{"C0302", "垃圾箱", "垃圾箱破损、缺失或满溢", "垃圾箱修复或补齐，及时清运", "cgj", wd(1), uh(4), true, false, []string{"垃圾桶", "果皮箱"}},
	{"C0303", "广告牌匾", "门头牌匾破损、松动、字体残缺，存在坠落隐患", "牌匾修复或拆除，无安全隐患", "cgj", wd(3), uh(4), true, false, []string{"招牌", "牌匾", "店招"}},
	// 部件 04 园林绿化
	{"C0401", "行道树", "行道树倒伏、枯死、缺株或严重影响通行", "扶正、清理或补植到位", "cgj", wd(3), uh(4), true, false, []string{"树", "倒伏", "断枝"}},
	{"C0402", "绿地", "绿地设施损坏、黄土裸露或被毁占", "绿地修复，设施完好", "cgj", wd(5), wd(1), true, false, []string{"绿化", "草坪"}},
	{"C0403", "护树设施", "树池盖板、护树架缺失或破损", "护树设施修复或补齐", "cgj", wd(5), wd(1), true, false, []string{"树池"}},
	// 部件 05 其他
	{"C0501", "健身设施", "社区健身器材损坏存在安全隐患", "器材修复或拆除，设警示", "jd", wd(5), uh(8), true, false, []string{"健身器材"}},
	{"C0502", "治安监控", "监控探头损坏、偏移或被遮挡", "监控恢复正常", "gaj", wd(3), wd(1), true, false, []string{"监控", "摄像头", "探头"}},
	{"C0503", "宣传栏", "宣传栏破损、内容过期或污损", "宣传栏修复更新", "jd", wd(5), wd(2), false, true, []string{"公示栏", "橱窗"}},

	// 事件 01 市容环境
	{"E0101", "暴露垃圾", "道路、广场、绿地等公共区域出现暴露垃圾，面积 1 平方米以上或影响市容", "垃圾清理干净，无残留", "cgj", wd(1), wh(4), true, true, []string{"垃圾", "乱扔"}},
	{"E0102", "积存垃圾渣土", "公共区域积存垃圾、渣土未及时清运", "积存物清运完毕，场地整洁", "cgj", wd(2), wd(1), true, false, []string{"渣土", "建筑垃圾"}},
	{"E0103", "道路不洁", "路面有明显污物、油污、泥沙，保洁不到位", "路面清扫冲洗干净", "cgj", wh(5), wh(2), true, true, []string{"脏", "保洁"}},
	{"E0104", "乱堆物堆料", "在道路、楼道、公共场地乱堆物料、杂物", "堆物清除，恢复通行和原貌", "cgj", wd(1), wh(4), true, true, []string{"堆物", "杂物", "楼道"}},
	{"E0105", "水域不洁", "河道、湖面有漂浮垃圾、油污或水体异味", "水面清理干净", "sw", wd(2), wd(1), true, false, []string{"河道", "漂浮物"}},
	{"E0106", "焚烧垃圾树叶", "露天焚烧垃圾、树叶、秸秆", "明火扑灭，焚烧物清理", "hbj", uh(2), uh(1), true, true, []string{"焚烧", "烧垃圾", "冒烟"}},
	// 事件 02 宣传广告
	{"E0201", "违章张贴小广告", "在建筑物、设施上张贴小广告", "小广告清除干净，无残留", "cgj", wd(1), wh(4), true, true, []string{"小广告", "张贴"}},
	{"E0202", "非法小广告", "涂写、刻画、喷涂办证等非法小广告", "非法小广告清除或覆盖，线索移交", "cgj", wd(1), wh(4), true, true, []string{"牛皮癣", "喷涂", "办证"}},
	{"E0203", "违规设置户外广告", "未经审批设置户外广告、横幅、灯箱", "违规广告拆除", "cgj", wd(5), wd(1), true, false, []string{"横幅", "户外广告"}},
	{"E0204", "占道散发广告", "在道路上散发、派发广告宣传品", "散发行为劝离制止", "cgj", wh(4), wh(2), false, true, []string{"发传单"}},
	// 事件 03 施工管理
	{"E0301", "施工扰民", "夜间（22:00–6:00）或午休时段违规施工产生噪声", "施工停止或办理夜间施工许可", "hbj", wh(2), uh(1), true, false, []string{"噪音", "夜间施工"}},
	{"E0302", "施工占道", "施工占用道路未按规定围挡或超范围占道", "围挡规范或占道恢复", "cgj", wd(1), wh(4), true, false, []string{"围挡", "占道"}},
	{"E0303", "道路破损", "车行道、人行道路面坑洼、塌陷、破损或路缘石缺损", "路面修复平整", "zjj", wd(3), uh(4), true, false, []string{"坑", "路面", "人行道"}},
	{"E0304", "违法建设", "未取得规划许可或违反许可搭建建筑物、构筑物", "违法建设拆除或依法处置完毕", "cgj", wd(15), wd(5), true, false, []string{"违建", "私搭乱建", "违章建筑"}},
	{"E0305", "工地扬尘", "施工工地未覆盖、未冲洗车辆，扬尘污染", "扬尘治理措施落实", "zjj", wd(1), wh(4), true, false, []string{"扬尘", "工地"}},
	// 事件 04 突发事件
	{"E0401", "路面塌陷", "道路路面塌陷、空洞，危及通行安全", "设置警示并修复，通行恢复", "zjj", uh(4), uh(2), true, false, []string{"塌陷", "空洞"}},
	{"E0402", "供水管道破裂", "供水管道破裂、爆管，路面跑水", "管道抢修完毕，恢复供水", "sw", uh(4), uh(2), true, false, []string{"爆管", "漏水", "跑水"}},
	{"E0403", "道路积水", "降雨后道路积水影响通行", "积水排除，通行恢复", "sw", uh(4), uh(2), true, false, []string{"积水", "内涝"}},
	{"E0404", "电力线缆脱落", "架空电力线缆脱落、断裂或杆塔倾斜", "线缆恢复，隐患排除", "gdj", uh(4), uh(2), true, false, []string{"电线", "线缆"}},
	// 事件 05 街面秩序
	{"E0501", "占道经营", "占用道路、广场从事经营活动", "经营者劝离或规范入室，道路恢复通行", "cgj", wd(1), wh(2), true, true, []string{"摆摊", "占道"}},
	{"E0502", "无照经营游商", "无照流动经营游商", "游商劝离，依法处置", "scjg", wd(1), wh(2), true, false, []string{"游商", "流动摊贩", "无照"}},
	{"E0503", "乱停放非机动车", "非机动车、共享单车乱停放，占用盲道或阻碍通行", "车辆摆放整齐或清理", "cgj", wh(4), wh(2), true, true, []string{"单车", "电动车", "自行车"}},
	{"E0504", "机动车乱停放", "机动车占用人行道、消防通道或禁停路段停放", "车辆驶离或依法处罚", "gaj", wh(2), uh(1), true, false, []string{"停车", "占道停车"}},
	{"E0505", "店外经营", "沿街商户超出门窗外墙经营、摆放", "店外经营物品收回", "cgj", wd(1), wh(4), true, true, []string{"出店", "跨门"}},
	{"E0506", "露天烧烤", "在城市道路、公共场地露天烧烤", "烧烤停止，场地清理", "cgj", wh(4), uh(1), true, false, []string{"烧烤", "油烟"}},
	// 事件 06 扩展事件
	{"E0601", "餐饮油烟污染", "餐饮单位未安装或未正常使用油烟净化设施", "净化设施安装使用，油烟达标", "hbj", wd(5), wd(1), true, false, []string{"油烟"}},
	{"E0602", "商业噪声扰民", "商铺用高音喇叭招揽或经营噪声扰民", "噪声停止", "gaj", wh(4), uh(1), true, true, []string{"喇叭", "噪音"}},
	{"E0603", "食品安全隐患", "无证食品经营、过期变质食品销售线索", "依法查处，隐患消除", "scjg", wd(3), wd(1), true, false, []string{"食品", "过期"}},

	// 事件 07 矛盾纠纷
	{"E0701", "邻里纠纷", "邻里之间因噪声、漏水、占用公共空间等引发纠纷", "双方达成调解或已引导依法解决", "jd", wd(3), wd(1), false, true, []string{"邻居", "吵架", "调解"}},
	{"E0702", "劳资纠纷", "拖欠工资、劳动合同等劳资矛盾", "调解结案或移交劳动仲裁、监察", "jd", wd(5), wd(1), false, false, []string{"欠薪", "工资", "讨薪"}},
	{"E0703", "婚姻家庭纠纷", "婚姻、赡养、继承等家庭矛盾", "调解完成或引导诉讼，无激化风险", "jd", wd(5), wd(1), false, true, []string{"家庭", "赡养"}},
	{"E0704", "物业纠纷", "业主与物业服务企业之间的收费、服务纠纷", "调解达成或依法处理", "zjj", wd(5), wd(2), false, false, []string{"物业", "业委会"}},
	// 事件 08 安全隐患
	{"E0801", "消防通道堵塞", "消防通道、楼道被车辆、杂物占用堵塞", "通道清理畅通", "jd", wh(4), uh(2), true, true, []string{"消防通道", "楼道", "堵塞"}},
	{"E0802", "电动车违规充电", "电动自行车楼道停放充电、飞线充电", "违规充电消除，引导集中充电", "jd", wd(1), uh(2), true, true, []string{"飞线", "充电", "电瓶车"}},
	{"E0803", "危房隐患", "房屋开裂、倾斜、墙体剥落存在安全隐患", "鉴定处置，人员撤离或加固完成", "zjj", wd(2), uh(4), true, false, []string{"危房", "裂缝"}},
	{"E0804", "燃气使用隐患", "瓶装燃气违规使用、燃气泄漏气味", "隐患排除，规范使用", "zjj", uh(4), uh(1), true, false, []string{"液化气", "煤气", "泄漏"}},
	{"E0805", "高空坠物隐患", "阳台、外墙、空调外机等存在坠落危险", "隐患物件加固或拆除", "jd", wd(1), uh(2), true, false, []string{"高空", "坠落", "空调架"}},
	// 事件 09 民生服务
	{"E0901", "独居老人帮扶", "独居、空巢、失能老人需要探视、照料或帮扶", "落实探视帮扶措施并回访", "mzj", wd(3), wh(4), false, true, []string{"老人", "独居", "空巢"}},
	{"E0902", "困难群众救助", "低保、特困、临时救助等救助需求", "救助申请受理并告知结果", "mzj", nd(7), wd(1), false, false, []string{"低保", "救助", "困难"}},
	{"E0903", "残疾人服务", "残疾人出行、康复、补贴等服务需求", "需求落实或转介到位", "mzj", wd(5), wd(2), false, false, []string{"残疾"}},
	{"E0904", "流浪乞讨人员", "街面流浪乞讨人员需要救助", "护送救助站或帮助返乡", "mzj", uh(4), uh(2), false, false, []string{"流浪", "乞讨"}},
	// 事件 10 疫情防控
	{"E1001", "发热人员报告", "辖区发现发热等症状人员需就诊引导", "引导就医并跟踪结果", "jd", uh(2), uh(1), false, false, []string{"发热", "发烧"}},
	{"E1002", "重点人员排查", "需要登记排查的重点地区来返人员", "完成登记和健康监测告知", "jd", wd(1), wh(4), false, true, []string{"排查", "返乡"}},
	{"E1003", "公共场所消杀", "公共场所需要消毒消杀", "消杀完成并记录", "jd", wd(1), wh(4), true, false, []string{"消毒", "消杀"}},
}

// Catalogue returns the demo catalogue: every class active, sorted by code. Each call returns
// a fresh copy.
func Catalogue() []Category {
	out := make([]Category, 0, len(catalogue))
	for _, e := range catalogue {
		t := Event
		if e.code[0] == 'C' {
			t = Component
		}
		out = append(out, Category{
			Code: e.code, Type: t, MajorCode: e.code[1:3], MajorName: majors[e.code[:3]], Name: e.name,
			FilingCondition: e.filing, ClosingCondition: e.closing, DefaultDepartment: e.dept,
			NormalLimit: e.normal, UrgentLimit: e.urgent, CheckRequired: e.check, SelfHandleAllowed: e.self,
			Active: true, Keywords: append([]string(nil), e.keywords...),
		})
	}
	return out
}
