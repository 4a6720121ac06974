// ChatTemplate::Parse + Render on small templates, each expected output rendered by Python's
// jinja2 in transformers' environment (tests/chat_template_reference/reference.py's
// compile_template), covering whitespace control, expressions, filters, methods, loops, namespaces
// and macros; plus the errors: unsupported features and syntax errors named with their line, and
// raise_exception's message.
#include "core/chat/chat_template.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace ember::chat {
namespace {

using ::testing::HasSubstr;

struct Case {
  const char* source;
  const char* expected;
};

// Expected outputs rendered by Python jinja2 3.1.2 (transformers' environment).
constexpr Case kWhitespaceCases[] = {
    {R"(a
  {% if true %}
  b
  {% endif %}
c)",
     R"(a
  b
c)"},
    {R"(a  {{- ' b ' -}}  c)", R"(a b c)"},
    {R"(x
{%- if true -%}
  y  
{%- endif -%}
z)",
     R"(xyz)"},
    {R"({# comment #}
A{#- c -#}  B  {#+ keep +#}
C)",
     R"(AB  
C)"},
    {R"(  {%+ if true %}L{% endif %}
  {{ 'v' }}
)",
     R"(  L  v)"},
    {R"({% raw %}{{ x }}{% endraw %}
{%- raw -%}  {% y %}  {%- endraw %}|)",
     R"({{ x }}{% y %}|)"},
    {R"({% for i in [1, 2] %}
  - {{ i }}
{% endfor %}
done)",
     R"(  - 1
  - 2
done)"},
};

// Expected outputs rendered by Python jinja2 3.1.2 (transformers' environment).
constexpr Case kExpressionsCases[] = {
    {R"({{ 1 + 2 * 3 - 4 / 2 }} {{ 7 // -2 }} {{ -7 % 3 }} {{ 2 ** 3 ** 2 }} {{ 1.5e3 }} {{ 1_000 }})",
     R"(5.0 -4 2 64 1500.0 1000)"},
    {R"({{ 'a' ~ 1 ~ 2.0 ~ none ~ false }} {{ [1, 'b', none, true, 1.25, [2], {'k': 'v'}] }} {{ ('t',) }})",
     R"(a12.0NoneFalse [1, 'b', None, True, 1.25, [2], {'k': 'v'}] ('t',))"},
    {R"({{ 1 < 2 <= 2 > 1 }} {{ 1 == 1.0 == true }} {{ '1' == 1 }} {{ 'b' > 'a' }} {{ [1, 2] < [1, 3] }})",
     R"(True True False True True)"},
    {R"({{ 'x' in 'xyz' }} {{ 2 not in [1] }} {{ 'k' in {'k': 1} }} {{ not 0 }} {{ 0 or 'd' }} {{ 'a' and 'b' }})",
     R"(True True True True d b)"},
    {R"({{ 'y' if true else 'n' }} {{ 'y' if false }}|{{ 'y' if false else 'n' if true else 'm' }})",
     R"(y |n)"},
    {R"({{ messages[0].role }} {{ messages[-1]['content'] }} {{ messages[5] }}|{{ messages[0].nope }}|{{ (messages | last).role }})",
     R"(system ok ||assistant)"},
    {R"({{ 'héllo😀'[1] }} {{ 'héllo😀'[-1] }} {{ 'héllo😀'[1:3] }} {{ 'abcdef'[::2] }} {{ 'abc'[::-1] }} {{ [1, 2, 3, 4][1:-1] }} {{ [1, 2, 3][::-1] }} {{ [1, 2, 3][5:] }})",
     R"(é 😀 él ace cba [2, 3] [3, 2, 1] [])"},
    {R"({{ 'a\tb\n\'q\' \"d\" \x41\u00e9\\' }})",
     R"(a	b
'q' "d" Aé\)"},
    {R"({{ "it's" }} {{ ['it\'s', "a\"b"] }} {{ 1e20 }} {{ 1e-5 }} {{ 0.1 }} {{ 100.0 }} {{ 1/3 }})",
     R"(it's ["it's", 'a"b'] 1e+20 1e-05 0.1 100.0 0.3333333333333333)"},
};

// Expected outputs rendered by Python jinja2 3.1.2 (transformers' environment).
constexpr Case kFiltersCases[] = {
    {R"({{ '  x  ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ messages | length }} {{ 'héllo😀' | length }} {{ {'a': 1} | length }})",
     R"(x|a|3 6 1)"},
    {R"({{ 'ab cD' | upper }} {{ 'AB' | lower }} {{ 'hello wORLD-x(y' | title }} {{ 'hELLO wORLD' | capitalize }})",
     R"(AB CD ab Hello World-X(Y Hello world)"},
    {R"({{ [1, 2] | join('-') }} {{ messages | map(attribute='role') | join(', ') }} {{ 'abc' | list }} {{ 3 | string }})",
     R"(1-2 system, user, assistant ['a', 'b', 'c'] 3)"},
    {R"({{ 'a-b-c' | replace('-', '+') }} {{ [3, 4] | first }} {{ [3, 4] | last }} {{ nope | default('d') }} {{ 0 | default(5, true) }})",
     R"(a+b+c 3 4 d 5)"},
    {R"({{ {'z': 1, 'a': [1, 2.5, none, true, 'é"<']} | tojson }})",
     R"({"z": 1, "a": [1, 2.5, null, true, "é\"<"]})"},
    {R"({{ {'z': 1, 'a': [1, {}], 'b': []} | tojson(indent=2) }})",
     R"({
  "z": 1,
  "a": [
    1,
    {}
  ],
  "b": []
})"},
    {R"({{ messages | selectattr('role', 'equalto', 'user') | list | length }} {{ messages | rejectattr('role', 'in', ['user']) | map(attribute='role') | list }})",
     R"(1 ['system', 'assistant'])"},
    {R"({{ ' 42 ' | int }} {{ '4.7' | int }} {{ 'x' | int(-1) }} {{ '2' | float }} {{ -3 | abs }} {{ '%s=%d' | format('k', 2) }} {{ '<a&b>' | e }} {{ [1, 2] | reverse | list }})",
     R"(42 4 -1 2.0 3 k=2 &lt;a&amp;b&gt; [2, 1])"},
    {R"({{ {'b': 1, 'a': 2} | items | list }} {% for k, v in {'b': 1, 'a': 2}.items() %}{{ k }}{{ v }}{% endfor %})",
     R"([('b', 1), ('a', 2)] b1a2)"},
};

// Expected outputs rendered by Python jinja2 3.1.2 (transformers' environment).
constexpr Case kMethodsCases[] = {
    {R"({{ '  a b  '.strip() }}|{{ '\n\nx\n'.lstrip('\n') }}|{{ 'x..'.rstrip('.') }}|{{ 'abcba'.strip('ab') }})",
     R"(a b|x
|x|c)"},
    {R"({{ 'a b  c '.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }})",
     R"(['a', 'b', 'c'] ['a', 'b', '', 'c'] ['a', 'b,c'] ['a,b', 'c'])"},
    {R"({{ 'ab'.startswith('a') }} {{ 'ab'.endswith(('x', 'b')) }} {{ 'hi there'.title() }} {{ 'aaa'.replace('a', 'b', 2) }} {{ 'x{}y{}'.format(1, 'z') }})",
     R"(True True Hi There bba x1yz)"},
    {R"({{ {'a': 1}.get('a') }} {{ {'a': 1}.get('b') }} {{ {'a': 1}.get('b', 0) }} {{ {'a': 1, 'b': 2}.keys() | list }} {{ {'a': 1}.values() | list }})",
     R"(1 None 0 ['a', 'b'] [1])"},
    {R"({{ '</think>x'.split('</think>')[-1] }} {{ 'a<think>b'.split('<think>')[0] }})", R"(x a)"},
};

// Expected outputs rendered by Python jinja2 3.1.2 (transformers' environment).
constexpr Case kLoopsCases[] = {
    {R"({% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %})",
     R"(1032TrueFalse3;2121FalseFalse3;3210FalseTrue3;)"},
    {R"({% for m in messages %}[{{ loop.previtem.role if loop.previtem is defined }}|{{ loop.nextitem.role if loop.nextitem is defined }}]{% endfor %})",
     R"([|user][system|assistant][user|])"},
    {R"({% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }}{% if loop.last %}.{% endif %}{% endfor %})",
     R"(1:user2:assistant.)"},
    {R"({% for m in messages[1:] %}{{ m.role }}{% endfor %}|{% for m in messages[::-1] %}{{ m.role[0] }}{% endfor %})",
     R"(userassistant|aus)"},
    {R"({% for i in range(6) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %})",
     R"(023)"},
    {R"({% for x in [] %}x{% else %}empty{% endfor %} {% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %})",
     R"(empty 37)"},
    {R"({% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = i * 10 %}{{ x }}{% endfor %}{{ x }})",
     R"(1101201)"},
    {R"({% for i in [1, 2] %}{% for j in 'ab' %}{{ loop.index }}{{ j }}{% endfor %}{{ loop.index }}{% endfor %})",
     R"(1a2b11a2b2)"},
};

// Expected outputs rendered by Python jinja2 3.1.2 (transformers' environment).
constexpr Case kNamespaceCases[] = {
    {R"({% set ns = namespace(n=0, s='') %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% set ns.s = ns.s ~ m.role[0] %}{% endfor %}{{ ns.n }} {{ ns.s }})",
     R"(3 sua)"},
    {R"({% set a, b = 1, 2 %}{{ a }}{{ b }} {% set t %}block {{ a }}{% endset %}{{ t }})",
     R"(12 block 1)"},
    {R"({% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', punct='?') }})",
     R"(Hi A! Hi B?)"},
    {R"({% if x is defined %}d{% else %}u{% endif %} {{ none is none }} {{ 'a' is string }} {{ {} is mapping }} {{ 1 is number }} {{ 3 is odd }} {{ 4 is divisibleby(2) }} {{ true is true }} {{ 0 is false }})",
     R"(u True True True True True True True False)"},
};

nlohmann::json Messages() {
  return nlohmann::json::parse(
      R"([{"role": "system", "content": " sys "}, {"role": "user", "content": "héllo 😀"},
          {"role": "assistant", "content": "ok"}])");
}

template <size_t N>
void ExpectRenders(const Case (&cases)[N]) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.source);
    absl::StatusOr<ChatTemplate> t = ChatTemplate::Parse(c.source);
    ASSERT_TRUE(t.ok()) << t.status();
    absl::StatusOr<std::string> out = t->Render(Messages(), /*add_generation_prompt=*/false);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(*out, c.expected);
  }
}

TEST(ChatTemplateTest, WhitespaceControlMatchesJinja2) { ExpectRenders(kWhitespaceCases); }
TEST(ChatTemplateTest, ExpressionsMatchJinja2) { ExpectRenders(kExpressionsCases); }
TEST(ChatTemplateTest, FiltersMatchJinja2) { ExpectRenders(kFiltersCases); }
TEST(ChatTemplateTest, StringAndDictMethodsMatchPython) { ExpectRenders(kMethodsCases); }
TEST(ChatTemplateTest, LoopsMatchJinja2) { ExpectRenders(kLoopsCases); }
TEST(ChatTemplateTest, NamespacesMacrosAndTestsMatchJinja2) { ExpectRenders(kNamespaceCases); }

TEST(ChatTemplateTest, NewlinesAreNormalizedAndOneTrailingNewlineDropped) {
  absl::StatusOr<ChatTemplate> t = ChatTemplate::Parse("line\r\nwin\rmac\n\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t->Render(Messages(), false), "line\nwin\nmac\n");
}

TEST(ChatTemplateTest, RendersVariablesTransformersPasses) {
  absl::StatusOr<ChatTemplate> t = ChatTemplate::Parse(
      "{{ add_generation_prompt }} {{ tools is defined }} {{ tools is none }} {{ documents is none "
      "}} "
      "{{ bos_token is defined }} {{ extra_flag }} {{ messages | length }}");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t->Render(Messages(), true, {{"extra_flag", "yes"}}),
            "True True True True False yes 3");
  EXPECT_EQ(*t->Render(Messages(), false, {{"tools", nlohmann::json::array()}, {"extra_flag", 1}}),
            "False True False True False 1 3");
}

TEST(ChatTemplateTest, OrderedJsonKeepsTheClientsKeyOrderForTojson) {
  absl::StatusOr<ChatTemplate> t = ChatTemplate::Parse("{{ tools[0] | tojson }}");
  ASSERT_TRUE(t.ok()) << t.status();
  const char* tools = R"({"tools": [{"name": "f", "description": "d", "arguments": {}}]})";
  EXPECT_EQ(
      *t->Render(nlohmann::ordered_json::array(), false, nlohmann::ordered_json::parse(tools)),
      R"({"name": "f", "description": "d", "arguments": {}})");
  // nlohmann::json sorts keys: the caller chooses which order reaches the template.
  EXPECT_EQ(*t->Render(nlohmann::json::array(), false, nlohmann::json::parse(tools)),
            R"({"arguments": {}, "description": "d", "name": "f"})");
}

TEST(ChatTemplateTest, RaiseExceptionGivesItsMessage) {
  absl::StatusOr<ChatTemplate> t = ChatTemplate::Parse(
      "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% "
      "endif %}ok");
  ASSERT_TRUE(t.ok()) << t.status();
  absl::StatusOr<std::string> out = t->Render(Messages(), false);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(), "System role not supported");
  EXPECT_EQ(*t->Render(nlohmann::json::array({{{"role", "user"}, {"content", "x"}}}), false), "ok");
}

TEST(ChatTemplateTest, RenderErrorsWherePythonRaises) {
  for (const char* source :
       {"{{ 'a' + none }}", "{{ undefined_thing.attr }}", "{{ 1 / 0 }}", "{{ [].append(1) }}",
        "{{ x | tojson }}", "{{ nope() }}", "{{ 1 < 'a' }}", "{% set x = 3 %}{% set x.y = 1 %}"}) {
    SCOPED_TRACE(source);
    absl::StatusOr<ChatTemplate> t = ChatTemplate::Parse(source);
    ASSERT_TRUE(t.ok()) << t.status();
    absl::StatusOr<std::string> out = t->Render(Messages(), false);
    ASSERT_FALSE(out.ok()) << *out;
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(out.status().message(), HasSubstr("chat template error at line 1"));
  }
}

TEST(ChatTemplateTest, UnsupportedFeaturesAreRefusedByName) {
  const struct {
    const char* source;
    const char* message;
  } cases[] = {
      {"a\n\n{% include 'other.jinja' %}", "unsupported Jinja feature 'include' at line 3"},
      {"{% extends 'base' %}", "unsupported Jinja feature 'extends' at line 1"},
      {"{% call foo() %}x{% endcall %}", "unsupported Jinja feature 'call' at line 1"},
      {"{% filter upper %}x{% endfilter %}", "unsupported Jinja feature 'filter' at line 1"},
      {"\n{{ x | wordwrap }}", "unsupported Jinja feature 'filter wordwrap' at line 2"},
      {"{{ x is callable }}", "unsupported Jinja feature 'test callable' at line 1"},
      {"{% for x in y recursive %}{% endfor %}",
       "unsupported Jinja feature 'recursive for loop' at line 1"},
      {"{% with a = 1 %}{% endwith %}", "unsupported Jinja feature 'with' at line 1"},
      {"{{ f(*args) }}", "unsupported Jinja feature '*args/**kwargs in a call' at line 1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.source);
    absl::StatusOr<ChatTemplate> t = ChatTemplate::Parse(c.source);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(t.status().message(), HasSubstr(c.message));
  }
}

TEST(ChatTemplateTest, SyntaxErrorsNameTheirLine) {
  const struct {
    const char* source;
    const char* message;
  } cases[] = {
      {"a\nb\n{% if x %}never closed",
       "syntax error at line 3: unexpected end of template, expected 'endif'"},
      {"{{ 1 + }}", "syntax error at line 1: unexpected end of print statement"},
      {"\n{{ (1 }}", "syntax error at line 2"},
      {"{# open comment", "syntax error at line 1: Missing end of comment tag"},
      {"x\n{{ 'unterminated }}", "syntax error at line 2"},
      {"{% endfor %}", "unsupported Jinja feature 'endfor' at line 1"},
      {"{% break %}", "syntax error at line 1: 'break' outside of a loop"},
      {"{{ a b }}", "syntax error at line 1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.source);
    absl::StatusOr<ChatTemplate> t = ChatTemplate::Parse(c.source);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(t.status().message(), HasSubstr(c.message));
  }
}

TEST(ChatTemplateTest, CopiesShareTheParsedTemplate) {
  absl::StatusOr<ChatTemplate> t = ChatTemplate::Parse("{{ messages[0].content }}");
  ASSERT_TRUE(t.ok());
  ChatTemplate copy = *t;
  ChatTemplate moved = std::move(*t);
  EXPECT_EQ(*copy.Render(Messages(), false), " sys ");
  EXPECT_EQ(*moved.Render(Messages(), false), " sys ");
  EXPECT_EQ(copy.bos_token(), "");
}

}  // namespace
}  // namespace ember::chat
